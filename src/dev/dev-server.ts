import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { isIP } from "node:net";
import { relative, resolve } from "node:path";
import type { AppSchema } from "../runtime/app-schema.js";
import type { Hub } from "../runtime/hub.js";
import { createAppRequestListener, createAppTransport, inspectorRoute, routeUpgrades, type AppTransport } from "../server/app-routes.js";
import { describeStore, type BusSpec, type StoreSpec } from "../server/backends.js";
import { listen, serverUrl } from "../server/listen.js";
import { AppHost, type AppStatus, type DevStoreKind } from "./app-host.js";
import type { LoadedApp } from "./app-loader.js";
import { DriftMonitor } from "./drift-check.js";
import { InspectorApi } from "./inspector-api.js";
import { watchProject, type ChangeBatch } from "./watcher.js";

export { inspectorUrl } from "../server/app-routes.js";

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
  /** Default `"sqlite"` (under `.sessionstream/`); a `StoreSpec` from `--store` (e.g. PostgreSQL, shared by every reload). */
  readonly store?: DevStoreKind | StoreSpec;
  /** The event bus of `--bus` (Redis Streams): a fresh bus per reload. Default: in-process. */
  readonly bus?: BusSpec;
  /**
   * Milliseconds runs in flight get on a reload (they keep streaming through
   * the new app instance) and when `dev` stops; then they are interrupted
   * through their kind's hook. Default 10000.
   */
  readonly runGraceMs?: number;
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
  /**
   * Check continuously that the page's reducer (the app module's `reduce`
   * export) folds live UI events into what the snapshot holds, at every
   * ordinal (the consistency oracle of sessionstream/testing); drift shows in
   * the inspector and the terminal, once per problem. Default true
   * (`--no-drift-check` turns it off).
   */
  readonly driftCheck?: boolean;
}

/** A running dev server. */
export interface DevServer {
  /** `http://host:port` */
  readonly url: string;
  readonly storePath: string;
  status(): AppStatus;
  /** Runs of the running app instance that have not ended. */
  runsInFlight(): number;
  /** The hub of the running app generation. */
  hub(): Hub<AppSchema> | undefined;
  /** The drift check (undefined with `driftCheck: false`). */
  readonly drift: DriftMonitor | undefined;
  /** Reloads the app now (what the watcher does on a change). */
  reload(): Promise<void>;
  /** Closes sockets, the HTTP server, the app and its store. */
  close(): Promise<void>;
}

/**
 * `sessionstream dev`: one HTTP server with the websocket endpoint `/ws`,
 * command ingress and snapshots under `/api`, the schema at `/api/schema`,
 * the app's own routes (`createApp` returning `{ hub, routes }`, reloaded
 * with the hub), the app's `public/` at `/` and the inspector at
 * `/__sessionstream/inspector/`.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const cwd = resolve(options.cwd);
  const log = options.log ?? ((line: string) => console.log(line));
  const publicDir = resolve(cwd, options.publicDir ?? "public");
  const allowedHosts = devAllowedHosts(options);
  let transport: AppTransport | undefined;
  // The routes and hooks of the generation `transport` belongs to: set and cleared together.
  let app: LoadedApp | undefined;

  const appPath = resolve(cwd, options.appPath ?? "src/app.ts");
  const drift =
    options.driftCheck === false
      ? undefined
      : new DriftMonitor({ log, onProblem: (problem) => inspector.publishDrift(problem) });
  const inspector = new InspectorApi(
    () => host.hub,
    () => host.status,
    drift,
  );
  const host: AppHost = new AppHost({
    cwd,
    appPath,
    store: options.store ?? "sqlite",
    ...(options.bus ? { bus: options.bus } : {}),
    ...(options.runGraceMs !== undefined ? { runGraceMs: options.runGraceMs } : {}),
    onLoaded: (hub, loadedApp) => {
      const loaded = createAppTransport(hub, { allowedHosts, authorize: loadedApp.authorize });
      transport = loaded;
      app = loadedApp;
      drift?.attach(hub, loadedApp.reduce, relative(cwd, appPath));
      return async () => {
        drift?.detach();
        transport = undefined;
        app = undefined;
        await loaded.ws.close();
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
      drift?.schedule(applied.event.sessionId);
    },
  });

  const server: Server = createServer(
    createAppRequestListener({
      hub: () => host.hub,
      transport: () => transport,
      app: () => app,
      unavailable: () => ({ code: "app_not_loaded", message: host.status.error ?? "the app is not loaded" }),
      allowedHosts,
      publicDir,
      routes: [inspectorRoute(inspector)],
    }),
  );
  routeUpgrades(server, () => transport, allowedHosts);

  // The port first: a busy port is reported before gen runs, the store opens or the app loads.
  // Until the app is loaded, /api answers 503 app_not_loaded.
  await listen(server, options.port ?? 4400, options.host ?? "127.0.0.1");
  const url = serverUrl(server);
  try {
    await host.connect();
  } catch (err) {
    await new Promise<void>((done) => server.close(() => done()));
    throw err;
  }

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
    storePath: storeLabel(options.store, host.storePath),
    status: () => host.status,
    runsInFlight: () => host.hub?.runsInFlight ?? 0,
    hub: () => host.hub,
    drift,
    reload: () => host.reload(),
    close: () =>
      (closing ??= (async () => {
        stopWatching();
        await regenerating;
        inspector.close();
        drift?.close();
        await host.close();
        server.closeAllConnections();
        await new Promise<void>((done) => server.close(() => done()));
      })()),
  };
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


/** `allowedHosts` plus `host` when it is a name (`--host mybox.local`), so the page answers on the name it was started with. */
function devAllowedHosts(options: DevServerOptions): readonly string[] | undefined {
  const hosts = [...(options.allowedHosts ?? [])];
  const name = options.host;
  if (name !== undefined && isIP(name) === 0 && name !== "localhost" && !hosts.includes(name)) hosts.push(name);
  return hosts.length > 0 ? hosts : undefined;
}

/** Where dev keeps state, for the banner (passwords redacted). */
function storeLabel(store: DevServerOptions["store"], sqlitePath: string): string {
  if (store === "memory" || (typeof store === "object" && store.kind === "memory")) return "(memory)";
  return typeof store === "object" && store.kind === "postgres" ? describeStore(store) : sqlitePath;
}
