// `sessionstream start`: the production runner of the app `dev` runs. No
// watch, no reload, no gen; inspector only when asked; health endpoints;
// JSON logs; a bounded graceful shutdown.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { resolve } from "node:path";
import type { AppSchema } from "../runtime/app-schema.js";
import { SessionstreamError } from "../runtime/errors.js";
import type { EventBus } from "../runtime/event-bus.js";
import type { Hub } from "../runtime/hub.js";
import type { HydrationStore } from "../store/hydration-store.js";
import { createAppInstance, loadAppFactory, type LoadedApp } from "../dev/app-loader.js";
import { InspectorApi } from "../dev/inspector-api.js";
import { createAppRequestListener, createAppTransport, inspectorRoute, routeUpgrades, type AppTransport, type Route } from "./app-routes.js";
import { describeBus, describeStore, openBus, openStore, type BusHandle, type BusSpec, type StoreSpec } from "./backends.js";
import { healthRoutes } from "./health.js";
import { logIngressError, logRouteError, logRuntimeError, logTransportRecord, type Logger } from "./json-log.js";
import { listen, serverUrl } from "./listen.js";

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** The app's folder. */
  readonly cwd: string;
  /** The app module (exports `createApp({ store, bus })`). Default `<cwd>/src/app.ts`. */
  readonly appPath?: string;
  /** The static page folder served at `/`. Default `<cwd>/public`. */
  readonly publicDir?: string;
  /** Interface to bind. Default `"0.0.0.0"` (every IPv4 interface: a production server is reached over the network). */
  readonly host?: string;
  /** Default 8080; 0 picks a free port. */
  readonly port?: number;
  readonly store: StoreSpec;
  /** Default: none (the in-process bus, one node). */
  readonly bus?: BusSpec;
  /** Serve the inspector under `/__sessionstream/inspector/`. Default false. */
  readonly inspector?: boolean;
  /** Host names answered besides IP addresses and localhost (see the transport's `allowedHosts`). Default: none. */
  readonly allowedHosts?: readonly string[];
  /** Cross-origin page origins allowed on `/ws` and `/api` (same-origin always is). Default: none. */
  readonly allowedOrigins?: readonly string[];
  /** Longest graceful shutdown before sockets and connections are cut. Default 10000 ms. */
  readonly shutdownTimeoutMs?: number;
  /** Longest wait of a `/readyz` probe of the store or the bus. Default 2000 ms. */
  readonly probeTimeoutMs?: number;
  readonly logger: Logger;
}

/** How a shutdown went. */
export interface ShutdownResult {
  /** False when the timeout cut it short (in-flight work or a close that hung). */
  readonly clean: boolean;
  readonly durationMs: number;
}

/** A running production server. */
export interface StartedServer {
  /** `http://host:port` */
  readonly url: string;
  readonly hub: Hub<AppSchema>;
  /** Graceful shutdown (idempotent): see {@link startServer}. */
  close(reason?: string): Promise<ShutdownResult>;
}

/**
 * Opens the store (PostgreSQL: connects and migrates) and the bus, failing
 * fast with their URL (password redacted) and the fix; loads the app and
 * serves it on one port: the page, `/ws`, `/api`, `/healthz`, `/readyz`,
 * the app's own routes (`createApp` returning `{ hub, routes }`), and the
 * inspector with `inspector: true`.
 *
 * `close()` stops accepting (the listener closes, `/readyz` answers 503,
 * new commands and upgrades are refused), waits for in-flight requests,
 * closes the hub (queued publishes are applied and fanned out), closes the
 * websockets with 1001, then the bus and the store; all within
 * `shutdownTimeoutMs`, after which what is left is cut.
 */
export async function startServer(options: StartServerOptions): Promise<StartedServer> {
  const cwd = resolve(options.cwd);
  const log = options.logger;
  const appPath = resolve(cwd, options.appPath ?? "src/app.ts");
  const cleanup: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  };
  let store: HydrationStore;
  let bus: EventBus | undefined;
  let busHandle: BusHandle | undefined;
  let hub: Hub<AppSchema>;
  let app: LoadedApp;
  try {
    const factory = await loadAppFactory(appPath, cwd).catch((err: unknown) => {
      // `start` never generates code: say so when the generated modules are missing.
      if (!/Cannot find module[^\n]*[/\\]gen[/\\]/.test((err as Error).message)) throw err;
      throw new SessionstreamError("invalid_argument", `${(err as Error).message}\nrun \`npx sessionstream gen\` before \`sessionstream start\` (in the build step): start never generates code`, { cause: err });
    });
    store = await openStore(options.store);
    const openedStore = store;
    cleanup.push(async () => openedStore.close?.());
    let consumed = () => true;
    if (options.bus) {
      const opened = await openBus(options.bus, { onError: (e) => log.error(e.message, { code: e.code, component: "bus" }) });
      busHandle = opened;
      cleanup.push(() => opened.close());
      ({ bus, consumed } = watchConsume(opened.bus));
    }
    app = await createAppInstance(factory, { store, ...(bus ? { bus } : {}), onError: logRuntimeError(log) }, appPath);
    hub = app.hub;
    const openedHub = hub;
    cleanup.unshift(async () => openedHub.close());
    if (!consumed()) {
      // Its hub would order events alone: every node would assign its own ordinals.
      throw new SessionstreamError("invalid_argument", `${appPath}: createApp ignored the bus it was given; pass options.bus to new Hub({ bus })`);
    }
  } catch (err) {
    await undo();
    throw err;
  }
  if (hub.store !== store) log.warn("createApp did not use the store it was given; pass options.store to new Hub({ store })", { code: "invalid_argument" });

  const allowedHosts = options.allowedHosts && options.allowedHosts.length > 0 ? options.allowedHosts : undefined;
  const allowedOrigins = options.allowedOrigins && options.allowedOrigins.length > 0 ? options.allowedOrigins : undefined;
  const transport: AppTransport = createAppTransport(hub, {
    allowedHosts,
    allowedOrigins,
    observer: logTransportRecord(log),
    onIngressError: logIngressError(log),
    authorize: app.authorize,
  });
  let draining = false;
  const inFlight = new Set<Promise<void>>();

  const routes: Route[] = [];
  let inspector: InspectorApi | undefined;
  if (options.inspector) {
    const status = { state: "ready" as const, loadCount: 1, commands: hub.registry.names("commands"), events: hub.registry.names("events") };
    const api = new InspectorApi(
      () => hub,
      () => status,
    );
    hub.observe((applied) => api.publishEvent(hub, applied));
    routes.push(inspectorRoute(api));
    inspector = api;
  }
  const listener = createAppRequestListener({
    hub: () => hub,
    transport: () => (draining ? undefined : transport),
    // While draining, the app's routes answer 503 under /api/ like the ingress (the hub is closing).
    app: () => (draining ? undefined : app),
    unavailable: () => ({ code: "unavailable", message: "the server is shutting down; retry on another node" }),
    allowedHosts,
    allowedOrigins,
    onError: logRouteError(log),
    publicDir: resolve(cwd, options.publicDir ?? "public"),
    before: [healthRoutes({ store, probeBus: busHandle?.probe, draining: () => draining, timeoutMs: options.probeTimeoutMs ?? 2000 })],
    routes,
  });
  const server: Server = createServer(function onRequest(req: IncomingMessage, res: ServerResponse) {
    // Counted so that shutdown waits for in-flight commands to answer.
    const done = new Promise<void>((finished) => res.once("close", finished));
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
    if (draining) res.setHeader("connection", "close");
    listener(req, res);
  });
  routeUpgrades(server, () => (draining ? undefined : transport), allowedHosts);
  try {
    await listen(server, options.port ?? 8080, options.host ?? "0.0.0.0");
  } catch (err) {
    await transport.ws.close();
    await undo();
    throw err;
  }
  const url = serverUrl(server);
  log.info("listening", {
    url,
    app: appPath,
    store: describeStore(options.store),
    bus: describeBus(options.bus),
    inspector: options.inspector === true,
    commands: hub.registry.names("commands"),
    events: hub.registry.names("events"),
  });

  let closing: Promise<ShutdownResult> | undefined;
  const shutdown = async (reason: string): Promise<ShutdownResult> => {
    const started = Date.now();
    const deadline = started + (options.shutdownTimeoutMs ?? 10_000);
    const left = () => Math.max(0, deadline - Date.now());
    draining = true;
    log.info("shutting down", { reason, inFlightRequests: inFlight.size, timeoutMs: options.shutdownTimeoutMs ?? 10_000 });
    const serverClosed = new Promise<void>((done) => server.close(() => done()));
    server.closeIdleConnections();
    // Its live stream never ends by itself: close it before waiting for requests.
    inspector?.close();
    let clean = true;
    const step = async (what: string, work: () => Promise<unknown>) => {
      // Past the deadline each remaining step still gets a moment (sockets get their 1001, pools close).
      const ok = await within(work(), Math.max(left(), CUT_GRACE_MS));
      if (!ok) {
        clean = false;
        log.warn(`shutdown timeout: ${what} did not finish in time`, { code: "closed", step: what });
      }
    };
    await step("in-flight requests", () => Promise.all([...inFlight]));
    // Runs get what is left of the timeout, less a second to publish the terminal events of those interrupted.
    await step("in-flight publishes", () => hub.close({ runGraceMs: Math.max(0, left() - 1000) }));
    await step("websockets", () => transport.ws.close());
    if (busHandle) await step("bus", () => busHandle.close());
    await step("store", async () => store.close?.());
    server.closeAllConnections();
    await within(serverClosed, 1000);
    const durationMs = Date.now() - started;
    log.info(clean ? "stopped" : "stopped (cut short by the shutdown timeout)", { durationMs, clean });
    return { clean, durationMs };
  };
  return {
    url,
    hub,
    close: (reason = "close") => (closing ??= shutdown(reason)),
  };
}

/** What each shutdown step still gets once the shutdown timeout has passed. */
const CUT_GRACE_MS = 250;

/** The bus, with a record of whether the app's hub attached to it (`consume`). */
function watchConsume(bus: EventBus): { bus: EventBus; consumed: () => boolean } {
  let consumed = false;
  const watched = new Proxy(bus, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      // `consume`, or `attachHub` for a bus that links several processes (the Redis bus).
      if ((key === "consume" || key === "attachHub") && typeof value === "function") {
        return (...args: unknown[]) => {
          consumed = true;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { bus: watched, consumed: () => consumed };
}

/** Whether `work` settled within `ms` (a rejection counts as settled: shutdown goes on). */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = work.then(
    () => true,
    () => true,
  );
  const timedOut = new Promise<boolean>((done) => {
    timer = setTimeout(() => done(false), ms);
  });
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
