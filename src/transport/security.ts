import type { IncomingMessage } from "node:http";

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
 * requests (Origin host equals the Host header) are allowed: no wildcard default.
 */
export function isOriginAllowed(request: IncomingMessage, allowedOrigins: readonly string[] | undefined): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins?.includes("*")) return true;
  if (allowedOrigins?.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
