// A hub for tests: the app's own factory on a fresh memory store, with a
// fixed clock, recorders for live UI events and runtime errors, and helpers
// to submit commands, wait for background work to settle and read snapshots.
import type { AppSchema, NamesOf, PayloadInputOf } from "../runtime/app-schema.js";
import type { RuntimeErrorReport } from "../runtime/errors.js";
import type { AppliedEvent, UIEvent, UIFanout } from "../runtime/handlers.js";
import type { Hub, HubOptions } from "../runtime/hub.js";
import type { Snapshot } from "../runtime/timeline.js";
import type { App } from "../server/app-module.js";
import { hasEventLog, type HydrationStore, type RunRecord, type StoredEvent } from "../store/hydration-store.js";
import { MemoryHydrationStore } from "../store/memory/memory-store.js";
import { checkLiveMatchesSnapshot, expectLiveMatchesSnapshot, readEventLog, type ConsistencyReport, type LiveSnapshotOptions } from "./oracle.js";

/** What {@link createTestHub} passes to the app factory (the options `dev` and `start` pass, plus a fanout and hub options). */
export interface TestAppOptions {
  /** A fresh `MemoryHydrationStore` (event log included). */
  readonly store: HydrationStore;
  /** Records live UI events; pass it to `new Hub({ fanout })`. */
  readonly fanout: UIFanout;
  /** Records runtime errors; pass it to `new Hub({ onError })`. */
  readonly onError: (report: RuntimeErrorReport) => void;
  /** Hub options that make runs deterministic (`clock`); spread them into `new Hub({ ... })`. */
  readonly hubOptions: { readonly clock: () => number };
}

/** An app factory as the template's `createApp` (extra options it ignores are fine); an app with routes returns `{ hub, routes }`, whose hub is tested. */
export type TestAppFactory<S extends AppSchema> = (options: TestAppOptions) => Hub<S> | App<S> | Promise<Hub<S> | App<S>>;

/** Options of {@link createTestHub}. */
export interface TestHubOptions {
  /** The store. Default: a new `MemoryHydrationStore`. */
  readonly store?: HydrationStore;
  /** Start of the fixed clock (ms since the epoch); each reading advances it by 1 ms. Default `Date.UTC(2025, 0, 1)`. */
  readonly clockStart?: number;
}

/** A live UI event as fanned out, with the ordinal of the backend event that produced it. */
export interface RecordedUIEvent extends UIEvent {
  readonly sessionId: string;
  readonly ordinal: bigint;
}

/** Options of {@link TestHub.settle}. */
export interface SettleOptions {
  /** Settled after this long without a newly applied event. Default 50 ms. */
  readonly quietMs?: number;
  /** Fails after this long. Default 10000 ms. */
  readonly timeoutMs?: number;
}

/** The test hub: the app's hub plus recorders and helpers. */
export interface TestHub<S extends AppSchema> {
  readonly hub: Hub<S>;
  readonly store: HydrationStore;
  /** Every runtime error the hub reported, in order. */
  readonly errors: readonly RuntimeErrorReport[];
  /** Submits a command (see `Hub.submit`). */
  submit<N extends NamesOf<S["commands"]>>(sessionId: string, name: N, payload: PayloadInputOf<S["commands"], N>): Promise<void>;
  /** Resolves once no event has been applied for `quietMs` and no command is running: background work (streams, timers) has settled. */
  settle(options?: SettleOptions): Promise<void>;
  /**
   * Resolves with the session's runs once none is `running` (every run
   * started so far finished, failed, was stopped or interrupted) and the
   * terminal events of this hub's runs are applied; rejects after
   * `timeoutMs` (default 10000) naming the runs still running.
   */
  awaitRuns(sessionId: string, options?: { readonly timeoutMs?: number }): Promise<RunRecord[]>;
  /** Resolves with the first applied event of `sessionId` named `eventName` (already applied ones count). */
  waitForEvent(sessionId: string, eventName: string, options?: { readonly timeoutMs?: number }): Promise<AppliedEvent>;
  /** The session's current snapshot. */
  snapshot(sessionId: string): Promise<Snapshot>;
  /** The session's event log. */
  events(sessionId: string): Promise<StoredEvent[]>;
  /** The live UI events fanned out for a session so far. */
  uiEvents(sessionId: string): readonly RecordedUIEvent[];
  /** {@link expectLiveMatchesSnapshot} on this hub. */
  expectLiveMatchesSnapshot(sessionId: string, options: LiveSnapshotOptions): Promise<ConsistencyReport>;
  /** {@link checkLiveMatchesSnapshot} on this hub. */
  checkLiveMatchesSnapshot(sessionId: string, options: LiveSnapshotOptions): Promise<ConsistencyReport>;
  /** Waits for queued events, then closes the hub. */
  close(): Promise<void>;
}

/**
 * Builds the app's hub with its own factory (the `createApp` that `dev` and
 * `start` load) on a fresh memory store, with a fixed clock (`appliedAt` of
 * stored events and error records: `clockStart`, then +1 ms per reading) and
 * recorders for UI events and errors.
 *
 * ```ts
 * const t = await createTestHub(createApp);
 * await t.submit("s1", "ChatStartInference", { prompt: "hi" });
 * await t.settle();
 * await t.expectLiveMatchesSnapshot("s1", { reduce });
 * ```
 */
export async function createTestHub<S extends AppSchema>(createApp: TestAppFactory<S>, options: TestHubOptions = {}): Promise<TestHub<S>> {
  const store = options.store ?? new MemoryHydrationStore();
  let now = options.clockStart ?? Date.UTC(2025, 0, 1);
  const clock = () => now++;
  const errors: RuntimeErrorReport[] = [];
  const ui = new Map<string, RecordedUIEvent[]>();
  const applied: AppliedEvent[] = [];
  const waiters = new Set<(a: AppliedEvent) => void>();
  let lastAppliedAt = Date.now();
  let running = 0;
  const fanout: UIFanout = {
    publishUI(sessionId, ordinal, uiEvents) {
      let list = ui.get(sessionId);
      if (!list) ui.set(sessionId, (list = []));
      for (const e of uiEvents) list.push({ sessionId, ordinal, name: e.name, payload: e.payload });
    },
  };
  const built = await createApp({ store, fanout, onError: (r) => void errors.push(r), hubOptions: { clock } satisfies Partial<HubOptions<S>> });
  const hub = built && "hub" in built && typeof (built as Partial<Hub<S>>).submit !== "function" ? built.hub : (built as Hub<S>);
  if (!hub || typeof hub.submit !== "function") throw new TypeError("createTestHub: the app factory must return a Hub or { hub, routes }");
  hub.observe((a) => {
    applied.push(a);
    lastAppliedAt = Date.now();
    for (const w of waiters) w(a);
  });

  return {
    hub,
    store,
    errors,
    async submit(sessionId, name, payload) {
      running++;
      try {
        await hub.submit(sessionId, name, payload);
      } finally {
        running--;
        lastAppliedAt = Date.now();
      }
    },
    async settle(settleOptions = {}) {
      const quietMs = settleOptions.quietMs ?? 50;
      const deadline = Date.now() + (settleOptions.timeoutMs ?? 10_000);
      for (;;) {
        const idleFor = Date.now() - lastAppliedAt;
        if (running === 0 && idleFor >= quietMs) return;
        if (Date.now() > deadline) throw new Error(`settle: events were still being applied after ${settleOptions.timeoutMs ?? 10_000} ms`);
        await new Promise((r) => setTimeout(r, Math.max(5, Math.min(quietMs - idleFor, quietMs))));
      }
    },
    async awaitRuns(sessionId, waitOptions = {}) {
      const timeoutMs = waitOptions.timeoutMs ?? 10_000;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const runs = await hub.runs(sessionId);
        const running = runs.filter((r) => r.state === "running");
        if (running.length === 0) {
          // The store says "ended" just before the run's hook publishes its terminal events.
          if (typeof hub.runsSettled === "function") await hub.runsSettled(sessionId);
          return runs;
        }
        if (Date.now() > deadline) {
          throw new Error(`awaitRuns: ${running.map((r) => `${r.kind} ${r.runId}`).join(", ")} still running after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    waitForEvent(sessionId, eventName, waitOptions = {}) {
      const match = (a: AppliedEvent) => a.event.sessionId === sessionId && a.event.name === eventName;
      const found = applied.find(match);
      if (found) return Promise.resolve(found);
      const timeoutMs = waitOptions.timeoutMs ?? 10_000;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`waitForEvent: no "${eventName}" in session "${sessionId}" within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (a: AppliedEvent) => {
          if (!match(a)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(a);
        };
        waiters.add(waiter);
      });
    },
    snapshot: (sessionId) => hub.snapshot(sessionId),
    events: (sessionId) => (hasEventLog(store) ? readEventLog(store, sessionId) : Promise.resolve([])),
    uiEvents: (sessionId) => ui.get(sessionId) ?? [],
    expectLiveMatchesSnapshot: (sessionId, o) => expectLiveMatchesSnapshot(hub, sessionId, o),
    checkLiveMatchesSnapshot: (sessionId, o) => checkLiveMatchesSnapshot(hub, sessionId, o),
    close: () => hub.close(),
  };
}
