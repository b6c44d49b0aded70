import { join } from "node:path";
import type { AppSchema } from "../runtime/app-schema.js";
import type { AppliedEvent } from "../runtime/handlers.js";
import type { Hub } from "../runtime/hub.js";
import type { HydrationStore } from "../store/hydration-store.js";
import { MemoryHydrationStore } from "../store/memory/memory-store.js";
import { SqliteHydrationStore } from "../store/sqlite/sqlite-store.js";
import { createAppHub, loadAppFactory } from "./app-loader.js";

/** Which store `dev` runs the app on. */
export type DevStoreKind = "sqlite" | "memory";

/** The load state the terminal and the inspector show. */
export interface AppStatus {
  readonly state: "loading" | "ready" | "error";
  /** The last load error, also while an older generation keeps serving. */
  readonly error?: string;
  /** Successful loads so far. */
  readonly loadCount: number;
  readonly commands: readonly string[];
  readonly events: readonly string[];
}

/** Options of {@link AppHost}. */
export interface AppHostOptions {
  readonly cwd: string;
  readonly appPath: string;
  readonly store: DevStoreKind;
  /** SQLite file. Default `<cwd>/.sessionstream/dev.sqlite`. */
  readonly storePath?: string;
  /** Called after each successful load with the new hub (wire transports here); returns a disposer. */
  readonly onLoaded: (hub: Hub<AppSchema>) => () => Promise<void>;
  readonly onStatus: (status: AppStatus) => void;
  readonly onEvent: (applied: AppliedEvent) => void;
}

interface Generation {
  readonly hub: Hub<AppSchema>;
  readonly store: HydrationStore;
  readonly dispose: () => Promise<void>;
}

/**
 * Owns the running generation of the user's app. A reload imports the code
 * afresh first; only if that works is the old generation closed (its queued
 * events applied, sockets closed, store closed) and the new one started on
 * the same store file, so state survives reloads. A load error leaves the
 * old generation serving.
 */
export class AppHost {
  readonly storePath: string;
  readonly #options: AppHostOptions;
  readonly #memoryStore = new MemoryHydrationStore();
  #current: Generation | undefined;
  #status: AppStatus = { state: "loading", loadCount: 0, commands: [], events: [] };
  #chain: Promise<void> = Promise.resolve();

  constructor(options: AppHostOptions) {
    this.#options = options;
    this.storePath = options.storePath ?? join(options.cwd, ".sessionstream", "dev.sqlite");
  }

  get hub(): Hub<AppSchema> | undefined {
    return this.#current?.hub;
  }

  get status(): AppStatus {
    return this.#status;
  }

  /** Loads (or reloads) the app; reloads are serialized. Never throws: failures land in `status`. */
  reload(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#reload());
    return this.#chain;
  }

  /** Reports an error that happened outside loading (a failing `gen`) without touching the running app. */
  fail(message: string): void {
    this.#setStatus({ ...this.#status, state: "error", error: message });
  }

  async close(): Promise<void> {
    await this.#chain;
    await this.#stop();
  }

  async #reload(): Promise<void> {
    const { cwd, appPath } = this.#options;
    this.#setStatus({ ...this.#status, state: "loading" });
    let factory;
    try {
      factory = await loadAppFactory(appPath, cwd);
    } catch (err) {
      this.#setStatus({ ...this.#status, state: "error", error: (err as Error).message });
      return;
    }
    await this.#stop();
    const store = this.#openStore();
    try {
      const hub = await createAppHub(factory, { store }, appPath);
      const stopObserving = hub.observe(this.#options.onEvent);
      const disposeTransport = this.#options.onLoaded(hub);
      this.#current = {
        hub,
        store,
        dispose: async () => {
          stopObserving();
          await disposeTransport();
        },
      };
      this.#setStatus({
        state: "ready",
        loadCount: this.#status.loadCount + 1,
        commands: hub.registry.names("commands"),
        events: hub.registry.names("events"),
      });
    } catch (err) {
      if (store !== this.#memoryStore) await store.close?.();
      this.#setStatus({ ...this.#status, state: "error", error: `createApp failed: ${(err as Error).stack ?? err}` });
    }
  }

  async #stop(): Promise<void> {
    const gen = this.#current;
    if (!gen) return;
    this.#current = undefined;
    await gen.dispose();
    await gen.hub.close();
    if (gen.store !== this.#memoryStore) await gen.store.close?.();
  }

  #openStore(): HydrationStore {
    // The memory store outlives generations so dev state survives reloads in memory mode too.
    return this.#options.store === "memory" ? this.#memoryStore : new SqliteHydrationStore({ path: this.storePath });
  }

  #setStatus(status: AppStatus): void {
    this.#status = status;
    this.#options.onStatus(status);
  }
}
