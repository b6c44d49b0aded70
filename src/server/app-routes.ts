// The HTTP surface `dev` and `start` share: the websocket endpoint `/ws`,
// command ingress and snapshots under `/api/sessions/`, the schema at
// `/api/schema`, the package's browser modules under `/__sessionstream/dist/`
// (the page imports the client from there), extra routes (health,
// inspector), the app's own routes (`App.routes`), and the app's `public/`
// folder at `/`. Precedence: Host check, reserved built-in paths, app
// routes, `public/`, 404 (see {@link createAppRequestListener}).
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import type { LoadedApp } from "../dev/app-loader.js";
import type { AppSchema } from "../runtime/app-schema.js";
import type { Hub } from "../runtime/hub.js";
import {
  createCommandIngress,
  createWebSocketServer,
  hostRefusal,
  isHostAllowed,
  type IngressErrorReport,
  type SessionstreamWebSocketServer,
  type TransportObserver,
} from "../transport/index.js";
import type { Authorize } from "../transport/security.js";
import { answerError, runAppRoute, type RouteErrorReporter } from "./app-route-runner.js";
import { INSPECTOR_PREFIX, sendError, sendJson, type InspectorApi } from "../dev/inspector-api.js";
import { describeSchema } from "../dev/schema-description.js";
import { serveStatic } from "../dev/static-files.js";

/** The package's built modules, resolved from this file (src/server or dist/server). */
const PACKAGE_DIST = fileURLToPath(new URL("../../dist", import.meta.url));

/** The websocket server and the command ingress of one hub. */
export interface AppTransport {
  readonly ws: SessionstreamWebSocketServer;
  readonly ingress: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

/** Options of {@link createAppTransport}. */
export interface AppTransportOptions {
  /** Host names answered besides localhost and IP addresses (see `isHostAllowed`). Default: none. */
  readonly allowedHosts?: readonly string[] | undefined;
  /** Cross-origin page origins allowed (same-origin always is). Default: none. */
  readonly allowedOrigins?: readonly string[] | undefined;
  /** Websocket observer (logs). */
  readonly observer?: TransportObserver;
  /** Internal errors of the ingress (logs). Default: the ingress's `console.error`. */
  readonly onIngressError?: (report: IngressErrorReport) => void;
  /** The app's `authorize` hook (`App.authorize`), asked by both. Default: allow. */
  readonly authorize?: Authorize | undefined;
}

/** The websocket server at `/ws` and the command ingress under `/api`, both on `hub`. */
export function createAppTransport(hub: Hub<AppSchema>, options: AppTransportOptions = {}): AppTransport {
  const policy = {
    ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
    ...(options.authorize ? { authorize: options.authorize } : {}),
  };
  const ws = createWebSocketServer({ hub, path: "/ws", ...policy, ...(options.observer ? { observer: options.observer } : {}) });
  const ingress = createCommandIngress({ hub, prefix: "/api", ...policy, ...(options.onIngressError ? { onError: options.onIngressError } : {}) });
  return { ws, ingress };
}

/** A route: answers and returns true, or returns false to let the next one try. */
export type Route = (req: IncomingMessage, res: ServerResponse, path: string, url: URL) => boolean | Promise<boolean>;

/** Options of {@link createAppRequestListener}. */
export interface AppRoutesOptions {
  readonly hub: () => Hub<AppSchema> | undefined;
  readonly transport: () => AppTransport | undefined;
  /**
   * The serving app generation, whose `routes` answer after the reserved
   * paths; undefined while none is loaded (dev) or while draining (start),
   * when other `/api/` paths answer 503 too. Default: no app routes.
   */
  readonly app?: () => LoadedApp | undefined;
  /** Why `/api` answers 503 while there is no transport. */
  readonly unavailable: () => { readonly code: string; readonly message: string };
  readonly allowedHosts?: readonly string[] | undefined;
  /** Origins allowed besides same-origin on app routes' unsafe methods (see `App.checkOrigin`). Default: none. */
  readonly allowedOrigins?: readonly string[] | undefined;
  /** The app's static page folder. */
  readonly publicDir: string;
  /** Tried before anything else but the Host check (health endpoints). */
  readonly before?: readonly Route[];
  /** Tried for the reserved `/__sessionstream/` paths, after the package's modules (the inspector). */
  readonly routes?: readonly Route[];
  /** Internal errors of app routes and built-in endpoints, with the `errorId` their 500 carries. Default: `console.error`. */
  readonly onError?: RouteErrorReporter;
}

/**
 * Paths the server keeps for itself whether it serves them or not (`/healthz`
 * in `dev`, the inspector without `--inspector`): an app route never sees
 * them, so an app cannot shadow the protocol by accident, nor a route that
 * works in `dev` be shadowed in `start`.
 */
export function isReservedPath(path: string): boolean {
  return (
    path === "/ws" ||
    path === "/api/schema" ||
    path === "/api/sessions" ||
    path.startsWith("/api/sessions/") ||
    path === INSPECTOR_PREFIX ||
    path.startsWith(`${INSPECTOR_PREFIX}/`) ||
    path === "/healthz" ||
    path === "/readyz"
  );
}

/**
 * The request listener of the app server. Precedence:
 * 1. the Host check (DNS rebinding; 403), for every path;
 * 2. `before` routes (`start`'s `/healthz` and `/readyz`);
 * 3. reserved paths ({@link isReservedPath}): `/api/schema`, the ingress under
 *    `/api/sessions/`, `/ws` (upgrades only), `/__sessionstream/` (the
 *    package's modules, the inspector); 404 when nothing there answers;
 * 4. the app's routes (`App.routes`);
 * 5. other `/api/` paths: 503 while no app is loaded, else 404 (never `public/`);
 * 6. `public/`, then 204 for `/favicon.ico`, then 404.
 * Anything that throws answers the redacted 500 with an `errorId`; the server keeps serving.
 */
export function createAppRequestListener(options: AppRoutesOptions): (req: IncomingMessage, res: ServerResponse) => void {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Every endpoint (page, inspector, API, app routes): a rebound name must not read the sessions.
    if (!isHostAllowed(req, options.allowedHosts)) return void sendError(res, 403, "forbidden", hostRefusal(req));
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    for (const route of options.before ?? []) if (await route(req, res, path, url)) return;
    if (isReservedPath(path)) return reserved(req, res, path, url);
    const app = options.app?.();
    if (app && (await runAppRoute(app, req, res, url, options.allowedOrigins, options.onError))) return;
    if (path.startsWith("/api/")) {
      if (options.app && !app) return void sendUnavailable(res);
      return void sendError(res, 404, "not_found", `no endpoint ${req.method} ${path}`);
    }
    if (serveStatic(req, res, options.publicDir, path)) return;
    if (path === "/favicon.ico") {
      // Browsers ask on every page load; an app without an icon should not see a 404 each time.
      res.writeHead(204, { "cache-control": "max-age=3600" }).end();
      return;
    }
    sendError(res, 404, "not_found", `nothing at ${path}`);
  }
  async function reserved(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void> {
    if (path === "/api/schema" && req.method === "GET") {
      const hub = options.hub();
      if (!hub) return void sendUnavailable(res);
      return void sendJson(res, 200, describeSchema(hub.registry));
    }
    if (path.startsWith("/api/")) {
      const transport = options.transport();
      if (!transport) return void sendUnavailable(res);
      if (await transport.ingress(req, res)) return;
      return void sendError(res, 404, "not_found", `no endpoint ${req.method} ${path}`);
    }
    if (path === "/ws") return void sendError(res, 404, "not_found", `no endpoint ${req.method} /ws: it takes websocket upgrades only`);
    if (path.startsWith(`${INSPECTOR_PREFIX}/dist/`)) {
      if (serveStatic(req, res, PACKAGE_DIST, path.slice(`${INSPECTOR_PREFIX}/dist`.length))) return;
    } else if (path.startsWith(INSPECTOR_PREFIX)) {
      for (const route of options.routes ?? []) if (await route(req, res, path, url)) return;
    }
    sendError(res, 404, "not_found", `nothing at ${path}`);
  }
  function sendUnavailable(res: ServerResponse): void {
    const { code, message } = options.unavailable();
    sendError(res, 503, code, message);
  }
  return function onRequest(req, res) {
    handle(req, res).catch((err: unknown) => answerError(req, res, err, options.onError));
  };
}

/** Hands websocket upgrades to the current transport (Host checked first): 503 without one, 404 off its path. */
export function routeUpgrades(server: Server, transport: () => AppTransport | undefined, allowedHosts: readonly string[] | undefined): void {
  server.on("upgrade", function onUpgrade(req, socket, head) {
    if (!isHostAllowed(req, allowedHosts)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const current = transport();
    // No transport: the app is not loaded (dev) or the server is shutting down (start).
    if (!current) socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else if (!current.ws.handleUpgrade(req, socket, head)) socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
  });
}

/** The inspector's page and assets, resolved from this file (src/server or dist/server). */
const INSPECTOR_ASSETS = fileURLToPath(new URL("../../assets/inspector", import.meta.url));

/** The inspector: its page under `/__sessionstream/inspector/` and its JSON API. */
export function inspectorRoute(inspector: InspectorApi): Route {
  return async function inspectorRoutes(req, res, path, url) {
    if (path === `${INSPECTOR_PREFIX}/inspector` || path === INSPECTOR_PREFIX || path === `${INSPECTOR_PREFIX}/`) {
      res.writeHead(302, { location: `${INSPECTOR_PREFIX}/inspector/` }).end();
      return true;
    }
    if (path.startsWith(`${INSPECTOR_PREFIX}/inspector/`)) {
      return serveStatic(req, res, INSPECTOR_ASSETS, path.slice(`${INSPECTOR_PREFIX}/inspector`.length));
    }
    return inspector.handle(req, res, path, url.searchParams);
  };
}

/** The inspector's URL for a server URL. */
export function inspectorUrl(baseUrl: string): string {
  return `${baseUrl}${INSPECTOR_PREFIX}/inspector/`;
}
