// What the user's app module may give `dev` and `start` besides its hub:
// HTTP routes of its own (`GET /api/config`, `POST /api/chat`, auth
// callbacks, webhooks) and the `authorize` hook the websocket and the
// command ingress ask. Types only, plus the identity `defineApp`: no Node
// code runs here.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AppSchema } from "../runtime/app-schema.js";
import type { Hub } from "../runtime/hub.js";
import type { Authorize, AuthorizeAction } from "../transport/security.js";

/** What an app route gets besides the request and the response. */
export interface AppRouteContext<S extends AppSchema = AppSchema> {
  /** The hub of the same app generation as the route (after a reload in `dev`, the new one). */
  readonly hub: Hub<S>;
  /** The request's URL (`pathname`, `searchParams`); its origin is always `http://localhost`. */
  readonly url: URL;
  /**
   * Whether the request passes the Origin rule of `/ws` and `/api`: no
   * `Origin` header (not a browser), same-origin, or an allowed origin
   * (`--allowed-origin`). Already enforced before the route runs unless the
   * app sets `checkOrigin: false`.
   */
  originAllowed(): boolean;
  /**
   * Asks the app's `authorize` hook (the one `/ws` and `/api` ask) about this
   * request, e.g. `authorize("command", { sessionId, commandName })` before a
   * route submits a command. No hook allows; a throw or a rejection refuses.
   */
  authorize(action: AuthorizeAction, target?: { readonly sessionId?: string; readonly commandName?: string }): Promise<boolean>;
  /**
   * Reads the request body as JSON (an empty body is `{}`). Throws a
   * `SessionstreamError` the server answers when the route lets it through:
   * `unsupported_media_type` (415) unless the Content-Type is
   * `application/json` or `*+json`, `payload_too_large` (413) beyond 1 MiB,
   * `invalid_json` (400).
   */
  readJson(): Promise<unknown>;
  /** Answers `status` with `body` as JSON (`Cache-Control: no-store`); returns true (handled). */
  json(status: number, body: unknown): true;
  /** Answers `{"error":{"code","message"}}`, the shape of every error of the server; returns true (handled). */
  error(status: number, code: string, message: string): true;
}

/**
 * The app's own HTTP routes, as one node request handler: answer and return
 * (or resolve) `true`, or return `false` to let `public/` and then the 404
 * answer try. A handler that has started answering counts as having handled
 * the request whatever it returns. A throw or a rejection answers 500
 * `{"error":{"code":"internal","message":"internal error","errorId":...}}`
 * (a `SessionstreamError` of a client-facing code answers its code, as
 * the command ingress does) and is logged with the same `errorId`; the
 * server keeps serving.
 *
 * Reserved paths never reach it: `/ws`, `/api/schema`, `/api/sessions/...`,
 * `/__sessionstream/...`, `/healthz` and `/readyz`.
 */
export type AppRouteHandler<S extends AppSchema = AppSchema> = (
  request: IncomingMessage,
  response: ServerResponse,
  context: AppRouteContext<S>,
) => boolean | Promise<boolean>;

/**
 * What `createApp` may return instead of a bare `Hub`: the hub plus the
 * app's routes and `authorize` hook. In `dev` they reload with the hub (one
 * generation: a route edit reloads; a load error keeps the old hub and
 * routes serving).
 */
export interface App<S extends AppSchema = AppSchema> {
  readonly hub: Hub<S>;
  /** The app's own HTTP routes. Default: none. */
  readonly routes?: AppRouteHandler<S>;
  /**
   * Asked by `/ws` (connect, subscribe) and the command ingress (command,
   * snapshot), and by routes through `context.authorize`. Default: allow.
   */
  readonly authorize?: Authorize;
  /**
   * Default true: a browser request to an app route whose `Origin` is
   * neither same-origin nor an allowed origin gets 403 before the route
   * runs, as on `/api` (otherwise any page could POST to the app's routes
   * without a CORS preflight, e.g. with a `text/plain` body). With false
   * every request reaches the routes, which check `context.originAllowed()`
   * where it matters (webhooks and form-post callbacks from other sites).
   */
  readonly checkOrigin?: boolean;
}

/**
 * Returns `app` unchanged: it only infers the schema from `app.hub`, so that
 * the routes' `context.hub` is typed.
 *
 * ```ts
 * return defineApp({ hub, routes: async (req, res, { url, json }) => url.pathname === "/api/config" && json(200, { model: "demo" }) });
 * ```
 */
export function defineApp<S extends AppSchema>(app: App<S>): App<S> {
  return app;
}
