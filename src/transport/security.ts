import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/** What a connection or request wants to do, as `authorize` sees it. */
export type AuthorizeAction = "connect" | "subscribe" | "command" | "snapshot";

/** The argument of an `authorize` hook. */
export interface AuthorizeRequest {
  /** The HTTP request: the websocket upgrade request, or the ingress request. */
  readonly request: IncomingMessage;
  readonly action: AuthorizeAction;
  /** Set for websocket actions. */
  readonly connectionId?: string;
  /** Set for `subscribe`, `command` and `snapshot`. */
  readonly sessionId?: string;
  /** Set for `command`: the logical command name. */
  readonly commandName?: string;
}

/**
 * Decides whether an action is allowed. Return (or resolve) `true` to allow.
 * Anything else, a rejection or a throw refuses (fail closed): the client gets
 * code `forbidden` and nothing of the session.
 */
export type Authorize = (request: AuthorizeRequest) => boolean | Promise<boolean>;

/** Runs an `authorize` hook; no hook allows everything. Errors refuse. */
export async function isAuthorized(authorize: Authorize | undefined, request: AuthorizeRequest): Promise<boolean> {
  if (!authorize) return true;
  try {
    return (await authorize(request)) === true;
  } catch {
    return false;
  }
}

/**
 * Origin policy. `allowedOrigins` lists exact origins (`"https://app.example"`);
 * `"*"` must be spelled out to allow any. Without a list (the default) only
 * requests without an `Origin` header (non-browser clients) and same-origin
 * requests are allowed: no wildcard default. Same-origin compares scheme, host
 * and port with the request's own: the `Host` header, and `https` when the
 * socket is TLS or a proxy says so in `X-Forwarded-Proto` (a page cannot set
 * that header on a websocket, nor on a cross-origin request without a CORS
 * preflight, which this server does not grant), else `http`.
 */
export function isOriginAllowed(request: IncomingMessage, allowedOrigins: readonly string[] | undefined): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins?.includes("*")) return true;
  if (allowedOrigins?.includes(origin)) return true;
  const host = request.headers.host;
  if (host === undefined) return false;
  try {
    const from = new URL(origin);
    const self = new URL(`${schemeOf(request)}://${host}`);
    return from.protocol === self.protocol && from.host === self.host;
  } catch {
    return false;
  }
}

/** `https` or `http`: what the client used to reach this server (see {@link isOriginAllowed}). */
function schemeOf(request: IncomingMessage): "http" | "https" {
  const forwarded = request.headers["x-forwarded-proto"];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim().toLowerCase();
  if (proto === "https" || proto === "http") return proto;
  return (request.socket as { encrypted?: boolean } | undefined)?.encrypted === true ? "https" : "http";
}

/**
 * Host policy, against DNS rebinding (a page at `http://attacker.example:PORT`
 * whose name resolves to 127.0.0.1 is same-origin with itself, so the origin
 * check alone cannot stop it). A request that arrives on a loopback address
 * (127.0.0.0/8, ::1) is answered only when its `Host` header names a loopback
 * host (`localhost`, `*.localhost`), an IP address (which no DNS answer can
 * rebind), or an entry of `allowedHosts`, as Vite and webpack-dev-server do.
 * An entry is a host name (`"app.example"`), `".app.example"` for the name
 * and its subdomains, or `"*"` for any host. Given a non-empty list, the same
 * rule holds on every address, not only loopback. A request without a `Host`
 * header (HTTP/1.0, non-browser) is allowed: browsers always send it.
 */
export function isHostAllowed(request: IncomingMessage, allowedHosts: readonly string[] | undefined): boolean {
  const host = request.headers.host;
  if (host === undefined) return true;
  if (allowedHosts?.includes("*")) return true;
  const enforced = (allowedHosts !== undefined && allowedHosts.length > 0) || isLoopbackAddress(request.socket?.localAddress);
  if (!enforced) return true;
  const name = hostName(host);
  if (name === undefined) return false;
  if (name === "localhost" || name.endsWith(".localhost") || isIP(name) !== 0) return true;
  return (allowedHosts ?? []).some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith(".") ? name === e.slice(1) || name.endsWith(e) : name === e;
  });
}

/** Why {@link isHostAllowed} refused `request`, naming the fix. */
export function hostRefusal(request: IncomingMessage): string {
  const name = hostName(request.headers.host ?? "") ?? request.headers.host ?? "";
  return `Host "${name}" is not allowed (DNS rebinding protection): a server reached on a loopback address answers only localhost, IP addresses and allowedHosts; add "${name}" to the allowedHosts option if it is yours`;
}

/** The lower-cased host name of a `Host` header value (port and IPv6 brackets removed), or `undefined` if malformed. */
function hostName(header: string): string | undefined {
  try {
    const url = new URL(`http://${header}`);
    if (url.username !== "" || url.password !== "" || url.pathname !== "/" || url.search !== "" || url.hash !== "") return undefined;
    const name = url.hostname.endsWith(".") ? url.hostname.slice(0, -1) : url.hostname;
    return name.startsWith("[") ? name.slice(1, -1) : name;
  } catch {
    return undefined;
  }
}

/** Whether `address` (a socket's local address) is a loopback address: 127.0.0.0/8, ::1, or ::ffff:127.x.x.x. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") ? isIP(v4) === 4 : address === "::1";
}
