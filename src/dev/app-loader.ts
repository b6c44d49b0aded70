import { existsSync } from "node:fs";
import * as nodeModule from "node:module";
import { relative } from "node:path";
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";
import { SessionstreamError, type RuntimeErrorReport } from "../runtime/errors.js";
import type { EventBus } from "../runtime/event-bus.js";
import type { Hub } from "../runtime/hub.js";
import type { AppSchema } from "../runtime/app-schema.js";
import type { HydrationStore } from "../store/hydration-store.js";
import type { UIReducer } from "../transport/client/session-view.js";

/** What `dev` and `start` hand the user's app factory. */
export interface AppFactoryOptions {
  /** The store opened from `--store` (default SQLite under `.sessionstream/`). */
  readonly store: HydrationStore;
  /** The event bus opened from `--bus` (Redis Streams, several nodes); absent on a single node. Pass it to `new Hub({ bus })`. */
  readonly bus?: EventBus;
  /** Where runtime errors go (`start` writes them as JSON log lines); pass it to `new Hub({ onError })`. */
  readonly onError?: (report: RuntimeErrorReport) => void;
}

/**
 * The contract of the user's app module: a factory, exported as `createApp`
 * (or as the default export), that builds a hub on the store it is given.
 */
export type AppFactory = (options: AppFactoryOptions) => Hub<AppSchema> | Promise<Hub<AppSchema>>;

let generation = 0;

/** The query that marks one load generation of the user's modules. */
const GENERATION_PARAM = "sessionstream-dev";
/** This package's own code: loaded once, shared by every generation. */
const OWN_CODE = ["dist/", "src/"].map((dir) => new URL(`../../${dir}`, import.meta.url).href);

/**
 * A resolve hook (module.register): an import from a module of generation N
 * resolves a file of the user's (not under node_modules, not this package's
 * own code) to `file?sessionstream-dev=N`, so each reload evaluates the
 * user's files afresh while dependencies (protobuf, the sessionstream
 * runtime) load once. A fresh tsx namespace per reload re-evaluated every
 * dependency too: about a second per reload and a few MB of heap never freed.
 */
const GENERATION_HOOK = `
const PARAM = ${JSON.stringify(GENERATION_PARAM)};
const OWN = ${JSON.stringify(OWN_CODE)};
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const parent = context.parentURL && context.parentURL.startsWith("file:") ? new URL(context.parentURL) : undefined;
  const generation = parent ? parent.searchParams.get(PARAM) : null;
  const url = resolved.url;
  if (!generation || !url.startsWith("file:") || url.includes("/node_modules/") || OWN.some((o) => url.startsWith(o))) return resolved;
  const next = new URL(url);
  next.searchParams.set(PARAM, generation);
  return { ...resolved, url: next.href };
}
`;

type ScopedImport = (specifier: string, parent: string) => Promise<unknown>;
let scopedImport: ScopedImport | undefined;

/**
 * tsx in one namespace for every generation, plus the generation hook, once
 * per process; undefined where `module.register` is missing. tsx's import is
 * Node's own, out of reach of test runners that rewrite `import()`.
 */
function generationImport(): ScopedImport | undefined {
  if (scopedImport) return scopedImport;
  const registerHooks = (nodeModule as { register?: (url: string) => void }).register;
  if (typeof registerHooks !== "function") return undefined;
  const api = register({ namespace: "sessionstream-dev" });
  // Registered after tsx, so it runs first and sees tsx's resolution.
  registerHooks(`data:text/javascript,${encodeURIComponent(GENERATION_HOOK)}`);
  scopedImport = api.import;
  return scopedImport;
}

/**
 * Imports the user's TypeScript app module (tsx) as a new generation, so
 * every call sees the user's files as they are now (a reload), and returns
 * its factory. Throws a `SessionstreamError` whose message names the file
 * and the problem (syntax errors carry tsx's `file:line:col`).
 */
export async function loadAppFactory(appPath: string, cwd: string): Promise<AppFactory> {
  if (!existsSync(appPath)) {
    throw new SessionstreamError(
      "invalid_argument",
      `app module ${relative(cwd, appPath)} does not exist: run \`npx sessionstream gen\` to create it, or pass --app <file>`,
    );
  }
  const n = ++generation;
  let mod: Record<string, unknown>;
  try {
    const load = generationImport();
    if (load) {
      mod = (await load(`${pathToFileURL(appPath).href}?${GENERATION_PARAM}=${n}`, pathToFileURL(cwd + "/").href)) as Record<string, unknown>;
    } else {
      // Without module.register (Node < 20.6): a fresh tsx namespace per load.
      const api = register({ namespace: `sessionstream-dev-${n}` });
      try {
        mod = (await api.import(pathToFileURL(appPath).href, pathToFileURL(cwd + "/").href)) as Record<string, unknown>;
      } finally {
        await api.unregister();
      }
    }
  } catch (err) {
    const message = (err as Error).message.replace(new RegExp(`\\?${GENERATION_PARAM}=\\d+`, "g"), "");
    throw new SessionstreamError("invalid_argument", `cannot load ${relative(cwd, appPath)}: ${message}`, {
      cause: err,
    });
  }
  const factory = mod["createApp"] ?? mod["default"];
  if (typeof factory !== "function") {
    throw new SessionstreamError(
      "invalid_argument",
      `${relative(cwd, appPath)} must export a function \`createApp({ store })\` (or a default export) that returns a Hub; ` +
        `found exports: ${Object.keys(mod).join(", ") || "none"}`,
    );
  }
  if (mod["reduce"] !== undefined && typeof mod["reduce"] === "function") reducers.set(factory as AppFactory, mod["reduce"] as UIReducer);
  return factory as AppFactory;
}

/** The page reducers the app modules export as `reduce`, by factory. */
const reducers = new WeakMap<AppFactory, UIReducer>();

/**
 * The page's reducer the app module of `factory` exports as `reduce` (the
 * function the page passes to `client.subscribe(id, { reduce })`), for the
 * drift check of `dev`; `undefined` when it exports none.
 */
export function appReducer(factory: AppFactory): UIReducer | undefined {
  return reducers.get(factory);
}

/**
 * Calls the factory, checks that it returned a hub, then resolves the runs a
 * dead process left running (`hub.recoverRuns()`: their kind's `interrupted`
 * hook publishes the terminal events), so that no answer stays "streaming"
 * after a crash, a reload or a deploy.
 */
export async function createAppHub(factory: AppFactory, options: AppFactoryOptions, label: string): Promise<Hub<AppSchema>> {
  const hub = await factory(options);
  if (!hub || typeof (hub as Partial<Hub<AppSchema>>).submit !== "function" || !(hub as Partial<Hub<AppSchema>>).registry) {
    throw new SessionstreamError("invalid_argument", `${label}: createApp must return a Hub (got ${hub === null ? "null" : typeof hub})`);
  }
  // A hub of an older sessionstream copy has no runs.
  if (typeof (hub as Partial<Hub<AppSchema>>).recoverRuns === "function") await hub.recoverRuns();
  return hub;
}
