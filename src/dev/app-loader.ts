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
import type { App, AppRouteHandler } from "../server/app-module.js";
import type { UIReducer } from "../transport/client/session-view.js";
import type { Authorize } from "../transport/security.js";

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
 * (or as the default export), that builds a hub on the store it is given and
 * returns it, or returns an {@link App} (`{ hub, routes, authorize }`).
 */
export type AppFactory = (options: AppFactoryOptions) => Hub<AppSchema> | App | Promise<Hub<AppSchema> | App>;

/** What `createApp` returned, normalized: a bare hub is an app without routes. */
export interface LoadedApp {
  readonly hub: Hub<AppSchema>;
  readonly routes: AppRouteHandler | undefined;
  readonly authorize: Authorize | undefined;
  /** `App.checkOrigin`, default true. */
  readonly checkOrigin: boolean;
}

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
      `${relative(cwd, appPath)} must export a function \`createApp({ store })\` (or a default export) that returns a Hub or { hub, routes }; ` +
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
 * Calls the factory, checks that it returned a hub or an {@link App} whose
 * parts are what they should be (an unknown key, e.g. `route`, is refused:
 * a typo would otherwise drop the app's routes silently), then resolves the
 * runs a dead process left running (`hub.recoverRuns()`: their kind's
 * `interrupted` hook publishes the terminal events), so that no answer stays
 * "streaming" after a crash, a reload or a deploy.
 */
export async function createAppInstance(factory: AppFactory, options: AppFactoryOptions, label: string): Promise<LoadedApp> {
  const built = await factory(options);
  const app = isHub(built) ? { hub: built } : built;
  if (!app || typeof app !== "object" || !isHub((app as Partial<App>).hub)) {
    throw new SessionstreamError("invalid_argument", `${label}: createApp must return a Hub or { hub, routes } (got ${describe(built)})`);
  }
  const problem = appProblem(app);
  if (problem) {
    await app.hub.close().catch(() => {});
    throw new SessionstreamError("invalid_argument", `${label}: createApp returned { hub, ... } with ${problem}`);
  }
  const hub = app.hub;
  // A hub of an older sessionstream copy has no runs.
  if (typeof (hub as Partial<Hub<AppSchema>>).recoverRuns === "function") await hub.recoverRuns();
  return { hub, routes: app.routes, authorize: app.authorize, checkOrigin: app.checkOrigin !== false };
}

/** {@link createAppInstance} for callers that need only the hub (`schema-vet --store`'s rebuild dry run). */
export async function createAppHub(factory: AppFactory, options: AppFactoryOptions, label: string): Promise<Hub<AppSchema>> {
  return (await createAppInstance(factory, options, label)).hub;
}

const APP_KEYS: ReadonlySet<string> = new Set(["hub", "routes", "authorize", "checkOrigin"]);

/** What is wrong with an `App` object's parts, or undefined. */
function appProblem(app: App): string | undefined {
  const unknown = Object.keys(app).filter((k) => !APP_KEYS.has(k));
  if (unknown.length > 0) return `unknown key${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (known: ${[...APP_KEYS].join(", ")})`;
  if (app.routes !== undefined && typeof app.routes !== "function") return `routes that is not a function (req, res, context) => boolean (got ${describe(app.routes)})`;
  if (app.authorize !== undefined && typeof app.authorize !== "function") return `authorize that is not a function (got ${describe(app.authorize)})`;
  if (app.checkOrigin !== undefined && typeof app.checkOrigin !== "boolean") return `checkOrigin that is not a boolean (got ${describe(app.checkOrigin)})`;
  return undefined;
}

function isHub(value: unknown): value is Hub<AppSchema> {
  const hub = value as Partial<Hub<AppSchema>> | null | undefined;
  return typeof hub === "object" && hub !== null && typeof hub.submit === "function" && hub.registry !== undefined;
}

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}
