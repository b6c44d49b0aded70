// The HTTP surface `dev` and `start` share: the websocket endpoint `/ws`,
// command ingress and snapshots under `/api`, the schema at `/api/schema`,
// the package's browser modules under `/__sessionstream/dist/` (the page
// imports the client from there), extra routes (health, inspector), and the
// app's `public/` folder at `/`.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
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
}

/** The websocket server at `/ws` and the command ingress under `/api`, both on `hub`. */
export function createAppTransport(hub: Hub<AppSchema>, options: AppTransportOptions = {}): AppTransport {
  const policy = {
    ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
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
  /** Why `/api` answers 503 while there is no transport. */
  readonly unavailable: () => { readonly code: string; readonly message: string };
  readonly allowedHosts?: readonly string[] | undefined;
  /** The app's static page folder. */
  readonly publicDir: string;
  /** Tried before `/api` (health endpoints). */
  readonly before?: readonly Route[];
  /** Tried after `/api` and before the page (the inspector). */
  readonly routes?: readonly Route[];
}

/** The request listener of the app server; a route that throws answers 500. */
export function createAppRequestListener(options: AppRoutesOptions): (req: IncomingMessage, res: ServerResponse) => void {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Every endpoint (page, inspector, API): a rebound name must not read the sessions.
    if (!isHostAllowed(req, options.allowedHosts)) return void sendError(res, 403, "forbidden", hostRefusal(req));
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    for (const route of options.before ?? []) if (await route(req, res, path, url)) return;
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
    if (path.startsWith(`${INSPECTOR_PREFIX}/dist/`)) {
      if (serveStatic(req, res, PACKAGE_DIST, path.slice(`${INSPECTOR_PREFIX}/dist`.length))) return;
    } else {
      for (const route of options.routes ?? []) if (await route(req, res, path, url)) return;
      if (serveStatic(req, res, options.publicDir, path)) return;
      if (path === "/favicon.ico") {
        // Browsers ask on every page load; an app without an icon should not see a 404 each time.
        res.writeHead(204, { "cache-control": "max-age=3600" }).end();
        return;
      }
    }
    sendError(res, 404, "not_found", `nothing at ${path}`);
  }
  function sendUnavailable(res: ServerResponse): void {
    const { code, message } = options.unavailable();
    sendError(res, 503, code, message);
  }
  return function onRequest(req, res) {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendError(res, 500, "internal", (err as Error).message);
      else res.destroy();
    });
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
