import { existsSync } from "node:fs";
import { relative } from "node:path";
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";
import { SessionstreamError } from "../runtime/errors.js";
import type { Hub } from "../runtime/hub.js";
import type { AppSchema } from "../runtime/app-schema.js";
import type { HydrationStore } from "../store/hydration-store.js";

/** What `dev` hands the user's app factory. */
export interface AppFactoryOptions {
  /** The store `dev` opened (SQLite under `.sessionstream/` unless `--store memory`). */
  readonly store: HydrationStore;
}

/**
 * The contract of the user's app module: a factory, exported as `createApp`
 * (or as the default export), that builds a hub on the store it is given.
 */
export type AppFactory = (options: AppFactoryOptions) => Hub<AppSchema> | Promise<Hub<AppSchema>>;

let generation = 0;

/**
 * Imports the user's TypeScript app module with tsx in a fresh module
 * namespace, so every call sees the files as they are now (a reload), and
 * returns its factory. Throws a `SessionstreamError` whose message names the
 * file and the problem (syntax errors carry tsx's `file:line:col`).
 */
export async function loadAppFactory(appPath: string, cwd: string): Promise<AppFactory> {
  if (!existsSync(appPath)) {
    throw new SessionstreamError(
      "invalid_argument",
      `app module ${relative(cwd, appPath)} does not exist: run \`npx sessionstream gen\` to create it, or pass --app <file>`,
    );
  }
  const api = register({ namespace: `sessionstream-dev-${++generation}` });
  let mod: Record<string, unknown>;
  try {
    mod = (await api.import(pathToFileURL(appPath).href, pathToFileURL(cwd + "/").href)) as Record<string, unknown>;
  } catch (err) {
    throw new SessionstreamError("invalid_argument", `cannot load ${relative(cwd, appPath)}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await api.unregister();
  }
  const factory = mod["createApp"] ?? mod["default"];
  if (typeof factory !== "function") {
    throw new SessionstreamError(
      "invalid_argument",
      `${relative(cwd, appPath)} must export a function \`createApp({ store })\` (or a default export) that returns a Hub; ` +
        `found exports: ${Object.keys(mod).join(", ") || "none"}`,
    );
  }
  return factory as AppFactory;
}

/** Calls the factory and checks that it returned a hub. */
export async function createAppHub(factory: AppFactory, options: AppFactoryOptions, label: string): Promise<Hub<AppSchema>> {
  const hub = await factory(options);
  if (!hub || typeof (hub as Partial<Hub<AppSchema>>).submit !== "function" || !(hub as Partial<Hub<AppSchema>>).registry) {
    throw new SessionstreamError("invalid_argument", `${label}: createApp must return a Hub (got ${hub === null ? "null" : typeof hub})`);
  }
  return hub;
}
