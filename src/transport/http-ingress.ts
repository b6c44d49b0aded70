import type { IncomingMessage, ServerResponse } from "node:http";
import type { JsonValue } from "@bufbuild/protobuf";
import { SessionstreamError, type SessionstreamErrorCode } from "../runtime/errors.js";
import { snapshotJson } from "./frame-codec.js";
import { IdempotencyCache, type IdempotencyOptions } from "./idempotency.js";
import { errorDetail, toPublicError } from "./internal-error.js";
import { canonicalizeIntegerStrings } from "./protojson-numbers.js";
import { resumeSnapshot } from "./resume.js";
import { hostRefusal, isAuthorized, isHostAllowed, isOriginAllowed, type Authorize } from "./security.js";
import { validateSessionId } from "../runtime/session.js";
import type { TransportHub } from "./transport-hub.js";

/** Options of {@link createCommandIngress}. */
export interface CommandIngressOptions {
  readonly hub: TransportHub;
  /** Path prefix of the routes. Default `"/api"`. */
  readonly prefix?: string;
  /** Called with action `command` or `snapshot`. Default: allow. */
  readonly authorize?: Authorize;
  /** Exact origins allowed besides same-origin and non-browser clients; `"*"` must be explicit. Default: none. */
  readonly allowedOrigins?: readonly string[];
  /**
   * Host names answered besides `localhost`, `*.localhost` and IP addresses when a
   * request arrives on a loopback address (DNS rebinding protection; see `isHostAllowed`):
   * `"app.example"`, `".app.example"` (with subdomains), or `"*"` (any). Non-empty, it
   * applies on every address. Default: none.
   */
  readonly allowedHosts?: readonly string[];
  /** Largest accepted request body. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** The `Idempotency-Key` window. Defaults: 10 minutes, 10000 keys. */
  readonly idempotency?: IdempotencyOptions;
  /**
   * Both modes answer when the handler has returned (so a handler's error,
   * e.g. a stub's `not_implemented`, reaches the submitter). `accepted` (the
   * default) answers 202: handlers start long work detached (detach is never
   * cancel) and return, and the run's later progress arrives as events.
   * `completed` answers 200, for handlers that finish their work inline.
   */
  readonly respond?: "accepted" | "completed";
  /**
   * Receives every internal error: anything thrown that is not a
   * `SessionstreamError` (a handler's plain `Error`, a driver's `TypeError`),
   * or one with code `internal`. The client gets 500
   * `{"error":{"code":"internal","message":"internal error","errorId":...}}`
   * and never the error's own message; the report carries the same `errorId`.
   * `SessionstreamError`s of other codes answer their code and message as is.
   * Default: `console.error` of the id, the request line and the stack.
   */
  readonly onError?: (report: IngressErrorReport) => void;
}

/** An internal error of the ingress, as {@link CommandIngressOptions.onError} receives it. */
export interface IngressErrorReport {
  /** The id the 500 answer carries. */
  readonly errorId: string;
  /** What was thrown, as thrown. */
  readonly error: unknown;
  readonly method: string;
  readonly path: string;
  readonly sessionId?: string;
  readonly commandName?: string;
}

/**
 * A node `http` request handler: resolves `true` when it answered the request,
 * `false` when the path is not one of its routes (so it composes with any server,
 * Express middleware, a Fastify `onRequest` hook or a Hono middleware on Node;
 * see docs/express.md, docs/fastify.md, docs/hono.md). Mount it ahead of body
 * parsers: it reads and limits its own bodies. Behind one, it takes the
 * `req.body` the parser left (a parsed value, a string or bytes).
 */
export type CommandIngress = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly replayed?: boolean;
}

const STATUS: Partial<Record<SessionstreamErrorCode, number>> = {
  invalid_json: 400,
  invalid_argument: 400,
  invalid_session_id: 400,
  payload_type_mismatch: 400,
  forbidden: 403,
  unknown_command: 404,
  method_not_allowed: 405,
  run_over: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_implemented: 501,
  closed: 503,
};

/** The HTTP status of a `SessionstreamError` code, as the ingress answers it (500 for codes without one); the app routes of `dev` and `start` answer the same. */
export function httpStatusOf(code: SessionstreamErrorCode): number {
  return STATUS[code] ?? 500;
}

/**
 * Creates the HTTP command ingress of DESIGN section 7:
 * `POST {prefix}/sessions/:sessionId/commands/:name` (protobuf JSON body of the
 * registered command type) and `GET {prefix}/sessions/:sessionId/snapshot[?since=N&epoch=E]` (typed resume: `recovered`,
 * `snapshot` or `reset`, with the snapshot's `epoch`, when `since` or `epoch` is given).
 * Errors answer `{"error":{"code","message"}}` with the codes of the wire protocol.
 */
export function createCommandIngress(options: CommandIngressOptions): CommandIngress {
  const { hub } = options;
  const prefix = (options.prefix ?? "/api").replace(/\/+$/, "");
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const respondMode = options.respond ?? "accepted";
  const cache = new IdempotencyCache<Answer>(options.idempotency);

  /** The answer of a failed request; internal errors are reported with an id and answered without their detail. */
  function errorAnswer(err: unknown, req: IncomingMessage, context: { sessionId?: string; commandName?: string } = {}): Answer {
    const { error: e, errorId } = toPublicError(err);
    if (errorId !== undefined) {
      const report: IngressErrorReport = { errorId, error: err, method: req.method ?? "", path: (req.url ?? "").split("?")[0]!, ...context };
      try {
        if (options.onError) options.onError(report);
        else console.error(`sessionstream: internal error ${errorId} on ${report.method} ${report.path}: ${errorDetail(err)}`);
      } catch {
        // A reporter's bug must not change the answer.
      }
    }
    const body = { code: e.code, message: e.message, ...(errorId !== undefined ? { errorId } : {}) };
    return { status: STATUS[e.code] ?? 500, body: JSON.stringify({ error: body }) };
  }

  async function handleCommand(req: IncomingMessage, sessionId: string, name: string): Promise<Answer> {
    hub.registry.require("commands", name); // unknown_command (404), naming the registered ones
    if (!hub.handledCommands().includes(name)) {
      throw new SessionstreamError("not_implemented", `not implemented: no handler is registered for command "${name}"`);
    }
    if (!(await isAuthorized(options.authorize, { request: req, action: "command", sessionId, commandName: name }))) {
      throw new SessionstreamError("forbidden", `command "${name}" on session "${sessionId}" is not allowed`);
    }
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json" && !type.endsWith("+json")) {
      throw new SessionstreamError("unsupported_media_type", `expected Content-Type application/json, got "${type || "none"}"`);
    }
    const input = await bodyOf(req, maxBodyBytes);
    const key = header(req, "idempotency-key");
    if (key !== undefined && (key.length === 0 || key.length > 255)) {
      throw new SessionstreamError("invalid_argument", `Idempotency-Key must be 1 to 255 characters, got ${key.length}`);
    }
    const cacheKey = key === undefined ? undefined : `${sessionId}\u0000${name}\u0000${key}`;
    const earlier = cacheKey === undefined ? undefined : cache.get(cacheKey);
    if (earlier) return replayed(await earlier);
    const answer = run(req, sessionId, name, input, key);
    if (cacheKey !== undefined) cache.set(cacheKey, answer, (a) => a.status < 300);
    return answer;
  }

  async function run(req: IncomingMessage, sessionId: string, name: string, input: Body, key: string | undefined): Promise<Answer> {
    try {
      let json: JsonValue;
      if (typeof input === "string") {
        try {
          json = JSON.parse(input === "" ? "{}" : input) as JsonValue;
        } catch (err) {
          throw new SessionstreamError("invalid_json", `request body is not JSON: ${(err as Error).message}`);
        }
      } else {
        json = input.parsed;
      }
      try {
        // Integer strings as protojson (the Go reference) reads them: "0x10", "+7", "007" are errors.
        canonicalizeIntegerStrings(hub.registry.require("commands", name), json);
      } catch (err) {
        throw new SessionstreamError("invalid_json", `invalid JSON for command "${name}": ${(err as Error).message}`, { cause: err });
      }
      const payload = hub.registry.fromJson("commands", name, json);
      const submitted = hub.submit(sessionId, name as never, payload as never);
      const body = { sessionId, command: name, ...(key !== undefined ? { idempotencyKey: key } : {}) };
      await submitted;
      return respondMode === "accepted"
        ? { status: 202, body: JSON.stringify({ ...body, status: "accepted" }) }
        : { status: 200, body: JSON.stringify({ ...body, status: "completed" }) };
    } catch (err) {
      return errorAnswer(err, req, { sessionId, commandName: name });
    }
  }

  async function handleSnapshot(req: IncomingMessage, url: URL, sessionId: string): Promise<Answer> {
    if (!(await isAuthorized(options.authorize, { request: req, action: "snapshot", sessionId }))) {
      throw new SessionstreamError("forbidden", `snapshot of session "${sessionId}" is not allowed`);
    }
    const sinceText = url.searchParams.get("since") ?? "0";
    if (!/^(0|[1-9]\d{0,19})$/.test(sinceText)) throw new SessionstreamError("invalid_argument", `since must be an unsigned integer, got "${sinceText}"`);
    const since = BigInt(sinceText);
    // Typed resume (an extension): `epoch` is the timeline epoch of the state resumed from `since`.
    const epochText = url.searchParams.get("epoch") ?? "0";
    if (!/^(0|[1-9]\d{0,19})$/.test(epochText)) throw new SessionstreamError("invalid_argument", `epoch must be an unsigned integer, got "${epochText}"`);
    const resumed = await resumeSnapshot(hub, sessionId, since, BigInt(epochText));
    // The extension fields only for a request that names a resume point or an epoch; a plain GET gets the reference body.
    const typed = url.searchParams.has("since") || url.searchParams.has("epoch");
    const extension = typed ? { epoch: resumed.epoch, resume: resumed.resume } : undefined;
    return { status: 200, body: snapshotJson(resumed.snapshot, resumed.changedAfter, hub.registry.typeRegistry, extension) };
  }

  return async function commandIngress(req, res) {
    const url = new URL(req.url ?? "/", "http://localhost");
    // Routes match the path as sent: `new URL()` folds the dot-segments `.`, `..`, `%2E%2E`, which
    // would turn a session id into another path; as sent, they are session ids refused below.
    const rawPath = rawPathOf(req);
    if (!rawPath.startsWith(prefix + "/")) return false;
    const parts = rawPath.slice(prefix.length + 1).split("/");
    const route =
      parts.length === 4 && parts[0] === "sessions" && parts[2] === "commands"
        ? "command"
        : parts.length === 3 && parts[0] === "sessions" && parts[2] === "snapshot"
          ? "snapshot"
          : undefined;
    if (!route) return false;
    let answer: Answer;
    try {
      if (!isHostAllowed(req, options.allowedHosts)) throw new SessionstreamError("forbidden", hostRefusal(req));
      if (!isOriginAllowed(req, options.allowedOrigins)) {
        throw new SessionstreamError("forbidden", `origin ${req.headers.origin} is not allowed: same-origin only (scheme, host and port), or list it in allowedOrigins`);
      }
      const method = route === "command" ? "POST" : "GET";
      if (req.method !== method && !(route === "snapshot" && req.method === "HEAD")) {
        res.setHeader("Allow", route === "command" ? "POST" : "GET, HEAD");
        throw new SessionstreamError("method_not_allowed", `${req.method} is not allowed on ${url.pathname}; use ${method}`);
      }
      const sessionId = decodeSegment(parts[1]!);
      validateSessionId(sessionId);
      answer = route === "command" ? await handleCommand(req, sessionId, decodeSegment(parts[3]!)) : await handleSnapshot(req, url, sessionId);
    } catch (err) {
      answer = errorAnswer(err, req);
      if (answer.status === 413) res.setHeader("Connection", "close");
    }
    res.statusCode = answer.status;
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    res.setHeader("Cache-Control", "no-store");
    if (answer.replayed) res.setHeader("Idempotent-Replayed", "true");
    res.end(req.method === "HEAD" ? undefined : answer.body);
    return true;
  };
}

/** The remembered answer, marked as a replay (header `Idempotent-Replayed: true` and `"replayed": true` in the body). */
function replayed(answer: Answer): Answer {
  const body = { ...(JSON.parse(answer.body) as object), replayed: true };
  return { ...answer, body: JSON.stringify(body), replayed: true };
}

/** The path of the request line as sent (origin-form, or the path of an absolute-form URL), without the query. */
function rawPathOf(req: IncomingMessage): string {
  let target = req.url ?? "/";
  const q = target.search(/[?#]/);
  if (q !== -1) target = target.slice(0, q);
  if (!target.startsWith("/")) {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(target);
    target = scheme ? target.slice(scheme[0].length) || "/" : "/" + target;
  }
  return target;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new SessionstreamError("invalid_argument", `path segment "${segment}" is not valid percent-encoding`);
  }
}

/** A request body: its text, or the JSON value a body parser mounted before the ingress made of it. */
type Body = string | { readonly parsed: JsonValue };

/**
 * The request body, within `max` bytes. Read from the request stream, unless
 * middleware mounted before the ingress has read it already (Express's
 * `express.json()`, `express.text()` or `express.raw()` as a global parser):
 * then the `req.body` it left is used, a string or bytes as the text, a
 * parsed value (copied: the ingress canonicalizes it in place) as the JSON.
 * A stream read by someone else who left no `req.body` is an internal error
 * naming the fix, never a request that waits forever.
 */
function bodyOf(req: IncomingMessage, max: number): Promise<Body> {
  if (!req.readableEnded) return readBody(req, max);
  const pre = (req as IncomingMessage & { body?: unknown }).body;
  const declared = Number(req.headers["content-length"] ?? NaN);
  const tooLarge = (size: number) => new SessionstreamError("payload_too_large", `request body of ${size} bytes exceeds maxBodyBytes ${max}`);
  if (declared > max) return Promise.reject(tooLarge(declared));
  if (pre === undefined) {
    return Promise.reject(
      new Error(
        "the request body was read before the command ingress, and no req.body was left: mount the ingress before body-parsing middleware (see docs/express.md, docs/fastify.md, docs/hono.md)",
      ),
    );
  }
  if (typeof pre === "string" || pre instanceof Uint8Array) {
    const text = typeof pre === "string" ? pre : Buffer.from(pre.buffer, pre.byteOffset, pre.byteLength).toString("utf8");
    const size = typeof pre === "string" ? Buffer.byteLength(pre) : pre.byteLength;
    return size > max ? Promise.reject(tooLarge(size)) : Promise.resolve(text);
  }
  const parsed = structuredClone(pre) as JsonValue;
  if (Number.isNaN(declared)) {
    const size = Buffer.byteLength(JSON.stringify(parsed) ?? "");
    if (size > max) return Promise.reject(tooLarge(size));
  }
  return Promise.resolve({ parsed });
}

/**
 * Reads the body up to `max` bytes. A declared or streamed size beyond it
 * fails with `payload_too_large` before the excess is buffered; the rest of the
 * upload is discarded (and the socket closed after the answer).
 */
export function readBody(req: IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > max) {
    req.resume();
    return Promise.reject(new SessionstreamError("payload_too_large", `request body of ${declared} bytes exceeds maxBodyBytes ${max}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", function onData(chunk: Buffer) {
      if (failed) return;
      size += chunk.byteLength;
      if (size > max) {
        failed = true;
        chunks.length = 0;
        reject(new SessionstreamError("payload_too_large", `request body exceeds maxBodyBytes ${max} (${size} bytes read so far)`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => failed || resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", (err) => failed || reject(err));
  });
}
