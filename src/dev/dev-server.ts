import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isIP, type AddressInfo } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { AppSchema } from "../runtime/app-schema.js";
import { SessionstreamError } from "../runtime/errors.js";
import type { Hub } from "../runtime/hub.js";
import { createCommandIngress, createWebSocketServer, hostRefusal, isHostAllowed, type SessionstreamWebSocketServer } from "../transport/index.js";
import { AppHost, type AppStatus, type DevStoreKind } from "./app-host.js";
import { INSPECTOR_PREFIX, InspectorApi, sendError, sendJson } from "./inspector-api.js";
import { describeSchema } from "./schema-description.js";
import { serveStatic } from "./static-files.js";
import { watchProject, type ChangeBatch } from "./watcher.js";

/** The package's inspector assets and browser client, resolved from this file (src/dev or dist/dev). */
const INSPECTOR_ASSETS = fileURLToPath(new URL("../../assets/inspector", import.meta.url));
const PACKAGE_DIST = fileURLToPath(new URL("../../dist", import.meta.url));

/** Options of {@link startDevServer}. */
export interface DevServerOptions {
  /** The app's folder. */
  readonly cwd: string;
  /** The app module (exports `createApp({ store })`). Default `<cwd>/src/app.ts`. */
  readonly appPath?: string;
  /** Default `"127.0.0.1"`: the dev server is not exposed to the network unless asked. */
  readonly host?: string;
  /** Default 4400; 0 picks a free port. */
  readonly port?: number;
  /**
   * Host names the server answers besides `localhost`, `*.localhost` and IP
   * addresses (DNS rebinding protection, as in Vite); `host` is added when it
   * is a name. Default: none.
   */
  readonly allowedHosts?: readonly string[];
  /** Default `"sqlite"` (under `.sessionstream/`). */
  readonly store?: DevStoreKind;
  /** The static page folder served at `/`. Default `<cwd>/public`. */
  readonly publicDir?: string;
  /** Watch protos and sources and reload. Default true. */
  readonly watch?: boolean;
  /** Proto folders (relative to cwd) watched for `gen`. Default `["proto"]`. */
  readonly protoRoots?: readonly string[];
  /** Source folders (relative to cwd) watched for reloads. Default `["src"]`. */
  readonly sourceRoots?: readonly string[];
  /**
   * Re-runs code generation after a proto change; throws with the compiler's
   * message on failure. Resolves with the files it wrote (relative to cwd), so
   * their change events do not trigger a second reload.
   */
  readonly regenerate?: () => Promise<readonly string[]>;
  /**
   * Run `regenerate` once at start, before the app loads, so that `dev` works
   * before any `gen` and after protos changed while it was stopped. Default true.
   */
  readonly genAtStart?: boolean;
  /** Where progress lines go. Default `console.log`. */
  readonly log?: (line: string) => void;
}

/** A running dev server. */
export interface DevServer {
  /** `http://host:port` */
  readonly url: string;
  readonly storePath: string;
  status(): AppStatus;
  /** The hub of the running app generation. */
  hub(): Hub<AppSchema> | undefined;
  /** Reloads the app now (what the watcher does on a change). */
  reload(): Promise<void>;
  /** Closes sockets, the HTTP server, the app and its store. */
  close(): Promise<void>;
}

interface Transport {
  readonly ws: SessionstreamWebSocketServer;
  readonly ingress: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

/**
 * `sessionstream dev`: one HTTP server with the websocket endpoint `/ws`,
 * command ingress and snapshots under `/api`, the schema at `/api/schema`,
 * the app's `public/` at `/` and the inspector at `/__sessionstream/inspector/`.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const cwd = resolve(options.cwd);
  const log = options.log ?? ((line: string) => console.log(line));
  const publicDir = resolve(cwd, options.publicDir ?? "public");
  const allowedHosts = devAllowedHosts(options);
  let transport: Transport | undefined;

  const inspector = new InspectorApi(
    () => host.hub,
    () => host.status,
  );
  const host: AppHost = new AppHost({
    cwd,
    appPath: resolve(cwd, options.appPath ?? "src/app.ts"),
    store: options.store ?? "sqlite",
    onLoaded: (hub) => {
      const ws = createWebSocketServer({ hub, path: "/ws", ...(allowedHosts ? { allowedHosts } : {}) });
      transport = { ws, ingress: createCommandIngress({ hub, prefix: "/api", ...(allowedHosts ? { allowedHosts } : {}) }) };
      return async () => {
        transport = undefined;
        await ws.close();
      };
    },
    onStatus: (status) => {
      inspector.publishStatus(status);
      if (status.state === "ready") log(`app loaded: ${status.commands.length} commands (${status.commands.join(", ")}), ${status.events.length} events`);
      if (status.state === "error") log(`app failed to load; dev keeps running, fix the code and save:\n${status.error}`);
    },
    onEvent: (applied) => {
      const hub = host.hub;
      if (hub) inspector.publishEvent(hub, applied);
    },
  });

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendError(res, 500, "internal", (err as Error).message);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Every endpoint (page, inspector, API): a rebound name must not read the developer's sessions.
    if (!isHostAllowed(req, allowedHosts)) return void sendError(res, 403, "forbidden", hostRefusal(req));
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (path === "/api/schema" && req.method === "GET") {
      const hub = host.hub;
      if (!hub) return void sendError(res, 503, "app_not_loaded", host.status.error ?? "the app is not loaded");
      return void sendJson(res, 200, describeSchema(hub.registry));
    }
    if (path.startsWith("/api/")) {
      if (!transport) return void sendError(res, 503, "app_not_loaded", host.status.error ?? "the app is not loaded");
      if (await transport.ingress(req, res)) return;
      return void sendError(res, 404, "not_found", `no endpoint ${req.method} ${path}`);
    }
    if (path === `${INSPECTOR_PREFIX}/inspector` || path === INSPECTOR_PREFIX || path === `${INSPECTOR_PREFIX}/`) {
      res.writeHead(302, { location: `${INSPECTOR_PREFIX}/inspector/` }).end();
      return;
    }
    if (path.startsWith(`${INSPECTOR_PREFIX}/inspector/`)) {
      if (serveStatic(req, res, INSPECTOR_ASSETS, path.slice(`${INSPECTOR_PREFIX}/inspector`.length))) return;
    } else if (path.startsWith(`${INSPECTOR_PREFIX}/dist/`)) {
      if (serveStatic(req, res, PACKAGE_DIST, path.slice(`${INSPECTOR_PREFIX}/dist`.length))) return;
    } else if (await inspector.handle(req, res, path, url.searchParams)) {
      return;
    } else if (serveStatic(req, res, publicDir, path)) {
      return;
    } else if (path === "/favicon.ico") {
      // Browsers ask on every page load; an app without an icon should not see a 404 each time.
      res.writeHead(204, { "cache-control": "max-age=3600" }).end();
      return;
    }
    sendError(res, 404, "not_found", `nothing at ${path}`);
  }

  server.on("upgrade", function onUpgrade(req, socket, head) {
    if (!isHostAllowed(req, allowedHosts)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    if (!transport || !transport.ws.handleUpgrade(req, socket, head)) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
    }
  });

  // The port first: a busy port is reported before gen runs, the store opens or the app loads.
  // Until the app is loaded, /api answers 503 app_not_loaded.
  await listen(server, options.port ?? 4400, options.host ?? "127.0.0.1");
  const address = server.address() as AddressInfo;
  const hostName = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${hostName}:${address.port}`;

  if (options.regenerate && options.genAtStart !== false) {
    // `dev` before `gen` (or after a proto edit while dev was stopped): bring generated code up to date first.
    try {
      const written = await options.regenerate();
      if (written.length > 0) log(`generated code was missing or stale: ran gen (${written.length} file${written.length === 1 ? "" : "s"} written)`);
    } catch (err) {
      host.fail(`gen failed:\n${(err as Error).message}`);
      log(`gen failed; dev keeps running, fix the proto and save:\n${(err as Error).message}`);
    }
  }
  await host.reload();

  let regenerating: Promise<void> = Promise.resolve();
  // Files gen just wrote, with their content: their watch events arrive after the reload gen
  // already triggered. Only an event that still finds gen's exact content is gen's echo; a
  // user's save of the same file (other content) reloads, and the echo is consumed once seen.
  let generated = new Map<string, { hash: string; until: number }>();
  const isGenEcho = (file: string) => {
    const written = generated.get(file);
    if (!written) return false;
    generated.delete(file);
    return Date.now() <= written.until && contentHash(resolve(cwd, file)) === written.hash;
  };
  const onChange = (batch: ChangeBatch) => {
    regenerating = regenerating.then(async () => {
      if (batch.protos.length > 0 && options.regenerate) {
        log(`proto changed (${batch.protos.join(", ")}): running gen`);
        try {
          const written = await options.regenerate();
          const until = Date.now() + GEN_ECHO_MS;
          generated = new Map(written.map((f) => [f, { hash: contentHash(resolve(cwd, f)), until }]));
        } catch (err) {
          host.fail(`gen failed:\n${(err as Error).message}`);
          log(`gen failed; dev keeps running, fix the proto and save:\n${(err as Error).message}`);
          return;
        }
      } else {
        const changed = batch.sources.filter((f) => !isGenEcho(f));
        if (changed.length === 0) return;
        log(`changed: ${changed.slice(0, 5).join(", ")}${changed.length > 5 ? ", ..." : ""}: reloading`);
      }
      await host.reload();
    });
  };
  const stopWatching =
    options.watch === false
      ? () => {}
      : watchProject({
          cwd,
          protoRoots: options.protoRoots ?? ["proto"],
          sourceRoots: options.sourceRoots ?? ["src"],
          onChange,
        });

  let closing: Promise<void> | undefined;
  return {
    url,
    storePath: options.store === "memory" ? "(memory)" : host.storePath,
    status: () => host.status,
    hub: () => host.hub,
    reload: () => host.reload(),
    close: () =>
      (closing ??= (async () => {
        stopWatching();
        await regenerating;
        inspector.close();
        await host.close();
        server.closeAllConnections();
        await new Promise<void>((done) => server.close(() => done()));
      })()),
  };
}

/** Binds the server; a busy port is an error that says what to do instead. */
async function listen(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((ready, fail) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") {
        fail(new SessionstreamError("invalid_argument", `port ${port} is in use; try --port 0 (a free port) or stop what is listening there`, { cause: err }));
      } else if (err.code === "EACCES") {
        fail(new SessionstreamError("invalid_argument", `no permission to listen on ${host}:${port}; try a port above 1023, or --port 0`, { cause: err }));
      } else if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") {
        fail(new SessionstreamError("invalid_argument", `cannot listen on host ${host}: not an address of this machine; try --host 127.0.0.1`, { cause: err }));
      } else {
        fail(err);
      }
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      ready();
    });
  });
}

/** How long after `gen` a change event of a file it wrote may be its own write arriving late. */
const GEN_ECHO_MS = 3000;

/** A digest of a file's content ("" when it cannot be read: deleted files always count as changed). */
function contentHash(file: string): string {
  try {
    return createHash("sha1").update(readFileSync(file)).digest("hex");
  } catch {
    return "";
  }
}

/** The inspector's URL for a dev server URL. */
export function inspectorUrl(baseUrl: string): string {
  return `${baseUrl}${INSPECTOR_PREFIX}/inspector/`;
}


/** `allowedHosts` plus `host` when it is a name (`--host mybox.local`), so the page answers on the name it was started with. */
function devAllowedHosts(options: DevServerOptions): readonly string[] | undefined {
  const hosts = [...(options.allowedHosts ?? [])];
  const name = options.host;
  if (name !== undefined && isIP(name) === 0 && name !== "localhost" && !hosts.includes(name)) hosts.push(name);
  return hosts.length > 0 ? hosts : undefined;
}
