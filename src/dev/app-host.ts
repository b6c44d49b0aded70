import { join } from "node:path";
import type { AppSchema } from "../runtime/app-schema.js";
import type { EventBus } from "../runtime/event-bus.js";
import type { AppliedEvent } from "../runtime/handlers.js";
import type { Hub } from "../runtime/hub.js";
import type { HydrationStore } from "../store/hydration-store.js";
import { MemoryHydrationStore } from "../store/memory/memory-store.js";
import { SqliteHydrationStore } from "../store/sqlite/sqlite-store.js";
import { openBus, openStore, type BusSpec, type StoreSpec } from "../server/backends.js";
import { appReducer, createAppInstance, loadAppFactory, type LoadedApp } from "./app-loader.js";
import type { UIReducer } from "../transport/client/session-view.js";

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
  /** A `StoreSpec` (from `--store`) may name another SQLite file or a PostgreSQL server (opened once, shared by every generation). */
  readonly store: DevStoreKind | StoreSpec;
  /** The Redis Streams bus of `--bus`: each generation gets a fresh one (its hub closes it). Default: in-process. */
  readonly bus?: BusSpec;
  /**
   * Milliseconds runs in flight get to finish when the app reloads (they are
   * handed to the new generation and keep streaming) or `dev` stops; the
   * rest are then interrupted through their kind's hook. Default 10000.
   */
  readonly runGraceMs?: number;
  /** SQLite file. Default `<cwd>/.sessionstream/dev.sqlite`. */
  readonly storePath?: string;
  /**
   * Called after each successful load with the new hub (wire transports here),
   * the app's routes and hooks of the same generation, and the page reducer
   * the app exports; returns a disposer.
   */
  readonly onLoaded: (hub: Hub<AppSchema>, app: LoadedApp & { readonly reduce: UIReducer | undefined }) => () => Promise<void>;
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
  /** The PostgreSQL store, opened at the first load and kept across generations. */
  #sharedStore: HydrationStore | undefined;
  #current: Generation | undefined;
  #status: AppStatus = { state: "loading", loadCount: 0, commands: [], events: [] };
  #chain: Promise<void> = Promise.resolve();

  constructor(options: AppHostOptions) {
    this.#options = options;
    const spec = options.store;
    this.storePath = typeof spec === "object" && spec.kind === "sqlite" ? spec.path : (options.storePath ?? join(options.cwd, ".sessionstream", "dev.sqlite"));
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

  /**
   * Connects to a PostgreSQL store and checks that the bus's Redis answers,
   * so that `dev` fails at start with their URL and the fix rather than
   * serving an app that cannot load. Nothing to do for SQLite and memory.
   */
  async connect(): Promise<void> {
    const spec = this.#options.store;
    if (typeof spec === "object" && spec.kind === "postgres") this.#sharedStore ??= await openStore(spec);
    if (this.#options.bus) await (await openBus(this.#options.bus)).close();
  }

  /** Reports an error that happened outside loading (a failing `gen`) without touching the running app. */
  fail(message: string): void {
    this.#setStatus({ ...this.#status, state: "error", error: message });
  }

  async close(): Promise<void> {
    await this.#chain;
    await this.#stop();
    await this.#sharedStore?.close?.();
    this.#sharedStore = undefined;
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
    let store: HydrationStore | undefined;
    let bus: EventBus | undefined;
    try {
      store = await this.#openStore();
      // Its readiness probe never connects in dev: the hub closing the bus is all the cleanup.
      bus = this.#options.bus ? (await openBus(this.#options.bus)).bus : undefined;
      const app = await createAppInstance(factory, { store, ...(bus ? { bus } : {}) }, appPath);
      const hub = app.hub;
      // Only now that the new generation exists does the old one go: a failing createApp leaves it serving.
      await this.#retire(hub);
      const stopObserving = hub.observe(this.#options.onEvent);
      const disposeTransport = this.#options.onLoaded(hub, { ...app, reduce: appReducer(factory) });
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
      await bus?.close?.().catch(() => {});
      if (store && !this.#isShared(store)) await store.close?.();
      this.#setStatus({ ...this.#status, state: "error", error: `createApp failed: ${(err as Error).stack ?? err}` });
    }
  }

  /** Stops the running generation (dev stopping): runs get `runGraceMs` to finish, then are interrupted. */
  async #stop(): Promise<void> {
    const gen = this.#current;
    if (!gen) return;
    this.#current = undefined;
    await gen.dispose();
    await gen.hub.close({ runGraceMs: this.#options.runGraceMs ?? 10_000 });
    if (!this.#isShared(gen.store)) await gen.store.close?.();
  }

  /**
   * Replaces the running generation by `next` (a reload): the old one's
   * sockets close (pages reconnect to `next`), its queued events are
   * applied, and its runs in flight are handed to `next`: they keep
   * streaming through it (one continuous answer on the page) and stops reach
   * them, for up to `runGraceMs`; then the rest are interrupted through
   * their hook. The old store closes once they have ended.
   */
  async #retire(next: Hub<AppSchema>): Promise<void> {
    const gen = this.#current;
    if (!gen) return;
    this.#current = undefined;
    await gen.dispose();
    const closeStore = async () => {
      if (!this.#isShared(gen.store)) await gen.store.close?.();
    };
    if (typeof gen.hub.handOver !== "function") {
      await gen.hub.close({ runGraceMs: 0 });
      return closeStore();
    }
    try {
      const { drained } = await gen.hub.handOver(next, { runGraceMs: this.#options.runGraceMs ?? 10_000 });
      void drained.then(closeStore, closeStore);
    } catch {
      // Already closing (it cannot be): nothing to hand over.
      await gen.hub.close({ runGraceMs: 0 }).catch(() => {});
      await closeStore();
    }
  }

  async #openStore(): Promise<HydrationStore> {
    const spec = this.#options.store;
    const kind = typeof spec === "object" ? spec.kind : spec;
    // The memory store outlives generations so dev state survives reloads in memory mode too.
    if (kind === "memory") return this.#memoryStore;
    if (typeof spec === "object" && spec.kind === "postgres") return (this.#sharedStore ??= await openStore(spec));
    return new SqliteHydrationStore({ path: this.storePath });
  }

  /** Stores that outlive a generation (memory, PostgreSQL): closed only by `close()`. */
  #isShared(store: HydrationStore): boolean {
    return store === this.#memoryStore || store === this.#sharedStore;
  }

  #setStatus(status: AppStatus): void {
    this.#status = status;
    this.#options.onStatus(status);
  }
}
