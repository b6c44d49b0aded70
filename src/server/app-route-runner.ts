// Runs the app's own routes (`App.routes`) for `dev` and `start`: the
// Origin check on unsafe methods, the context a route gets, and the answer
// to a route that throws (the ingress's redacted 500 with an errorId).
import type { IncomingMessage, ServerResponse } from "node:http";
import { SessionstreamError } from "../runtime/errors.js";
import type { LoadedApp } from "../dev/app-loader.js";
import { sendError, sendJson } from "../dev/inspector-api.js";
import { httpStatusOf, readBody, type IngressErrorReport } from "../transport/http-ingress.js";
import { errorDetail, toPublicError } from "../transport/internal-error.js";
import { isAuthorized, isOriginAllowed } from "../transport/security.js";
import type { AppRouteContext } from "./app-module.js";

/** Largest body `context.readJson()` reads, as the ingress. */
const MAX_ROUTE_BODY_BYTES = 1024 * 1024;

/** Methods that change state: the ones a cross-origin page may send without a preflight. */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** Where internal errors go: the report carries the `errorId` the client got. Default: `console.error`. */
export type RouteErrorReporter = (report: IngressErrorReport) => void;

/**
 * Offers the request to `app.routes`. Resolves true when the route answered
 * (or started to), or when it was refused (Origin) or failed (500): the
 * caller stops there. False: the next handler (`public/`, 404) tries.
 */
export async function runAppRoute(
  app: LoadedApp,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  allowedOrigins: readonly string[] | undefined,
  onError: RouteErrorReporter | undefined,
): Promise<boolean> {
  const routes = app.routes;
  if (!routes) return false;
  if (app.checkOrigin && !SAFE_METHODS.has(req.method ?? "GET") && !isOriginAllowed(req, allowedOrigins)) {
    return sendError(res, 403, "forbidden", `origin ${req.headers.origin} is not allowed: same-origin only (scheme, host and port), or list it in allowedOrigins`);
  }
  const context: AppRouteContext = {
    hub: app.hub,
    url,
    originAllowed: () => isOriginAllowed(req, allowedOrigins),
    authorize: (action, target = {}) =>
      isAuthorized(app.authorize, {
        request: req,
        action,
        ...(target.sessionId !== undefined ? { sessionId: target.sessionId } : {}),
        ...(target.commandName !== undefined ? { commandName: target.commandName } : {}),
      }),
    readJson: () => readJson(req),
    json: (status, body) => sendJson(res, status, body),
    error: (status, code, message) => sendError(res, status, code, message),
  };
  try {
    const handled = await routes(req, res, context);
    return handled === true || res.headersSent || res.writableEnded;
  } catch (err) {
    answerError(req, res, err, onError);
    return true;
  }
}

/**
 * Answers a failed request: a `SessionstreamError` of a client-facing code
 * with its code and message, anything else 500 `internal` with only an
 * `errorId`, the detail going to `onError` (or `console.error`) under the
 * same id. After headers were sent the connection is cut instead.
 */
export function answerError(req: IncomingMessage, res: ServerResponse, err: unknown, onError: RouteErrorReporter | undefined): void {
  const { error, errorId } = toPublicError(err);
  if (errorId !== undefined) {
    const report: IngressErrorReport = { errorId, error: err, method: req.method ?? "", path: (req.url ?? "").split("?")[0]! };
    try {
      if (onError) onError(report);
      else console.error(`sessionstream: internal error ${errorId} on ${report.method} ${report.path}: ${errorDetail(err)}`);
    } catch {
      // A reporter's bug must not change the answer.
    }
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error.code === "payload_too_large") res.setHeader("connection", "close");
  sendJson(res, httpStatusOf(error.code), { error: { code: error.code, message: error.message, ...(errorId !== undefined ? { errorId } : {}) } });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json" && !type.endsWith("+json")) {
    req.resume();
    throw new SessionstreamError("unsupported_media_type", `expected Content-Type application/json, got "${type || "none"}"`);
  }
  const text = await readBody(req, MAX_ROUTE_BODY_BYTES);
  try {
    return JSON.parse(text === "" ? "{}" : text) as unknown;
  } catch (err) {
    throw new SessionstreamError("invalid_json", `request body is not JSON: ${(err as Error).message}`);
  }
}

