import { MemoryHydrationStore } from "../store/memory/memory-store.js";
import {
  hasErrorRecords,
  hasEventIds,
  hasEventLog,
  hasLiveTimeline,
  hasTimelineCatchUp,
  hasTimelineReplace,
  hasTimelineReset,
  isRegistryBound,
  type ApplyBatch,
  type EventLogStore,
  type HydrationStore,
  type StoredEvent,
} from "../store/hydration-store.js";
import type { AppSchema, EmptyAppSchema, NamesOf, PayloadInputOf } from "./app-schema.js";
import { InProcessEventBus, isClusterEventBus, type ClusterApplyResult, type ClusterEventBus, type EventBus, type PendingEvent } from "./event-bus.js";
import { errorMessage, SessionstreamError, type RuntimeErrorKind, type RuntimeErrorReport } from "./errors.js";
import type {
  AppliedEvent,
  BackendEventEnvelope,
  CommandHandler,
  CommandPublisher,
  EventPublisher,
  TimelineProjection,
  UIEvent,
  UIFanout,
  UIProjection,
} from "./handlers.js";
import { coercePayload } from "./payload.js";
import { ProjectionRunner, type ProjectionErrorPolicy } from "./projection-runner.js";
import type { SchemaRegistry } from "./registry.js";
import { ListenerList } from "./listener-list.js";
import { LruMap } from "./lru-map.js";
import { KeyedSerialQueue, type QueueTurn } from "./serial-queue.js";
import {
  DEFAULT_MAX_SESSION_ID_LENGTH,
  SessionTable,
  validateSessionId,
  type Session,
  type SessionMetadataFactory,
} from "./session.js";
import { TimelineState, type Snapshot, type SnapshotOptions, type TimelineEntity } from "./timeline.js";
import { RunManager, type RunHandOver, type RunHandle, type RunKindHooks, type RunOptions, type RunRecord, type RunSpec, type RunWork, type StopResult } from "./runs.js";

/** Options of {@link Hub}. */
export interface HubOptions<S extends AppSchema> {
  readonly registry: SchemaRegistry<S>;
  /** Where events, entities and cursors live. Default: a new `MemoryHydrationStore`. */
  readonly store?: HydrationStore;
  /** Receives UI events after each applied event (e.g. the websocket server). More can be added with `attachFanout`. */
  readonly fanout?: UIFanout;
  /** Carries events to the applier. Default: `InProcessEventBus`. */
  readonly bus?: EventBus;
  /** Receives every runtime error; exceptions it throws are swallowed. Default: logs to `console.error`. */
  readonly onError?: (report: RuntimeErrorReport) => void;
  /** Creates session metadata on first reference. */
  readonly sessionMetadata?: SessionMetadataFactory;
  /** Failure policy per projection family. Default `fail` for both. */
  readonly projectionErrorPolicy?: { readonly ui?: ProjectionErrorPolicy; readonly timeline?: ProjectionErrorPolicy };
  /** Longest accepted session id. Default 256. */
  readonly maxSessionIdLength?: number;
  /** Events read per page when rebuilding a timeline from the event log. Default 500. */
  readonly rebuildPageSize?: number;
  /**
   * Sessions the hub keeps in memory (the session with its metadata, and
   * the cursor and timeline the projections' views read); a least recently
   * used idle one (approximately: the CLOCK algorithm, see `LruMap`) is
   * dropped beyond this and reloaded from the store
   * (its metadata factory run again) when it is next touched. Default 1000.
   */
  readonly maxCachedSessions?: number;
  /** Milliseconds since the epoch for `appliedAt` and error records (a fixed clock makes tests deterministic). Default `Date.now`. */
  readonly clock?: () => number;
  /** Runs: the owner id, the lease of other processes' runs, the shutdown grace. See {@link RunOptions}. */
  readonly runs?: RunOptions;
}

/** The hub's per-session state: the cursor and a cached timeline the projections read. */
interface SessionState {
  cursor: bigint;
  readonly timeline: TimelineState;
}

/** A cached session state: its load, and the loaded state once settled (for a synchronous hot path). */
interface StateSlot {
  readonly loading: Promise<SessionState>;
  loaded: SessionState | undefined;
}

type StoreRead = "snapshot" | "cursor" | "session state" | "event log" | "event id";

/** Where `#applyInOrder` leaves the details a cluster bus needs (an out-parameter keeps the local path free of extra awaits). */
interface ApplyDetails {
  result?: ClusterApplyResult;
}

/**
 * One applied event as the hub handles it: the envelope the projections
 * see is also the log row the store keeps (`appliedAt`, `eventId`), and the
 * applied event observers get is also the store's batch. One object each
 * instead of two: the apply path allocates per event, for every session.
 */
type AppliedRecord = AppliedEvent & ApplyBatch & { readonly event: BackendEventEnvelope & StoredEvent };

/**
 * Routes commands to handlers, orders and applies the events they publish,
 * runs the projections and fans out UI events. See DESIGN section 2.
 */
export class Hub<S extends AppSchema = EmptyAppSchema> {
  /** The registry this hub validates names and payloads against. */
  readonly registry: SchemaRegistry<S>;
  /** The store this hub applies events to. */
  readonly store: HydrationStore;

  readonly #bus: EventBus;
  /** The bus is this hub's own `InProcessEventBus`: publishes apply directly, without a `PendingEvent` each. */
  readonly #localBus: boolean;
  readonly #detachBus: () => void;
  readonly #queue = new KeyedSerialQueue();
  /** The queue task of the bus consumer, created once (not a closure per event). */
  readonly #applyTask = (turn: QueueTurn, pending: PendingEvent): Promise<bigint> => this.#applyInOrder(pending, turn);
  readonly #sessions: SessionTable<unknown>;
  readonly #states = new LruMap<string, StateSlot>();
  /** The store keeps live timelines (`LiveTimelineStore`): its writes update them, the hub does not. */
  readonly #liveTimelines: boolean;
  /** The store, when it applies synchronously (`LiveTimelineStore.applyNow`). */
  readonly #syncStore: { applyNow(batch: ApplyBatch): void } | undefined;
  readonly #handlers = new Map<string, CommandHandler<S, never>>();
  readonly #projections: ProjectionRunner<S>;
  readonly #fanouts = new ListenerList<UIFanout>();
  readonly #observers = new ListenerList<(applied: AppliedEvent) => void>();
  readonly #onError: (report: RuntimeErrorReport) => void;
  readonly #maxSessionIdLength: number;
  readonly #rebuildPageSize: number;
  readonly #maxCachedSessions: number;
  readonly #clock: () => number;
  /** Commands in flight per session: their sessions are never evicted. */
  readonly #activeSubmits = new Map<string, number>();
  readonly #runs: RunManager<S>;
  #closing: Promise<void> | undefined;
  #closed = false;
  /** Set by `handOver`: publishes go to the successor once this hub's queue is idle. */
  #successor: Promise<Hub<any>> | undefined;

  constructor(options: HubOptions<S>) {
    this.registry = options.registry;
    this.store = options.store ?? new MemoryHydrationStore();
    if (isRegistryBound(this.store)) this.store.bindRegistry(this.registry);
    this.#liveTimelines = hasLiveTimeline(this.store);
    const store = this.store;
    this.#syncStore = hasLiveTimeline(store) && typeof store.applyNow === "function" ? (store as { applyNow(batch: ApplyBatch): void }) : undefined;
    this.#bus = options.bus ?? new InProcessEventBus();
    this.#localBus = options.bus === undefined;
    this.#maxCachedSessions = Math.max(1, options.maxCachedSessions ?? 1000);
    this.#clock = options.clock ?? Date.now;
    this.#sessions = new SessionTable({
      factory: options.sessionMetadata,
      maxSessions: this.#maxCachedSessions,
      busy: (sessionId) => this.#busy(sessionId),
    });
    this.#onError = options.onError ?? logError;
    this.#projections = new ProjectionRunner(this.registry, options.projectionErrorPolicy, (kind, event, error, record) => {
      this.#report(kind, event.sessionId, error, { ordinal: event.ordinal, eventName: event.name });
      if (record) this.#recordError(kind, event, error);
    });
    this.#maxSessionIdLength = options.maxSessionIdLength ?? DEFAULT_MAX_SESSION_ID_LENGTH;
    this.#rebuildPageSize = options.rebuildPageSize ?? 500;
    if (options.fanout) this.#fanouts.add(options.fanout);
    this.#runs = new RunManager<S>(
      {
        store: this.store,
        publisher: (sessionId) => this.publisher(sessionId),
        clock: this.#clock,
        report: (sessionId, err) => this.#report("run", sessionId, err, {}),
        signalStop: isClusterEventBus(this.#bus) && this.#bus.signalRunStop ? (runId) => (this.#bus as ClusterEventBus).signalRunStop!(runId) : undefined,
      },
      options.runs,
    );
    const bus = this.#bus;
    this.#detachBus = isClusterEventBus(bus)
      ? bus.attachHub({
          registry: this.registry,
          apply: (event) => this.#applyForCluster(event),
          deliverRemote: (applied) => this.#deliverRemote(applied),
          missed: (sessionId, ordinal) => this.#missedRemote(sessionId, ordinal),
          stopLocalRun: (runId) => this.#runs.stopLocal(runId),
        })
      : bus.consume((event) => this.#consume(event));
  }

  /** Registers the handler of a command. Throws `handler_already_registered` on a second registration. */
  registerCommand<N extends NamesOf<S["commands"]>>(name: N, handler: CommandHandler<S, N>): this {
    this.registry.require("commands", name);
    if (this.#handlers.has(name)) {
      throw new SessionstreamError("handler_already_registered", `a handler for command "${name}" is already registered`);
    }
    this.#handlers.set(name, handler as CommandHandler<S, never>);
    return this;
  }

  /**
   * Registers a kind of run with the hooks that publish its terminal events
   * (see {@link RunKindHooks}). Register every kind before `recoverRuns`.
   */
  registerRunKind(kind: string, hooks: RunKindHooks<S>): this {
    this.#runs.registerKind(kind, hooks);
    return this;
  }

  /**
   * Starts long work for a session: records the run (state `running`, owner
   * this hub) in the store and resolves with its handle at once; the work
   * runs detached with an `AbortSignal` and a publisher. A client going away
   * never stops it: only {@link stopRun}, {@link stopRuns} or shutdown does.
   */
  startRun(sessionId: string, spec: RunSpec, work: RunWork<S>): Promise<RunHandle> {
    try {
      this.#assertOpen();
      validateSessionId(sessionId, this.#maxSessionIdLength);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#runs.start(sessionId, spec, work);
  }

  /**
   * Stops a run: in this process its signal aborts at once and the `stopped`
   * hook publishes its terminal events (exactly once); a run of a dead
   * process is ended here; a run of another live process is asked to stop
   * through the store. A run that is over answers `{ stopped: false, state }`.
   */
  stopRun(runId: string): Promise<StopResult> {
    return this.#runs.stop(runId);
  }

  /** Stops every running run of a session (see {@link stopRun}). */
  stopRuns(sessionId: string): Promise<StopResult[]> {
    validateSessionId(sessionId, this.#maxSessionIdLength);
    return this.#runs.stopSession(sessionId);
  }

  /** The session's runs, oldest first, in every state. */
  runs(sessionId: string): Promise<RunRecord[]> {
    validateSessionId(sessionId, this.#maxSessionIdLength);
    return this.#runs.list(sessionId);
  }

  /** One run by id, or `undefined`. */
  run(runId: string): Promise<RunRecord | undefined> {
    return this.#runs.get(runId);
  }

  /**
   * Ends, as `interrupted`, the runs a dead process left `running` (on this
   * host at once, elsewhere once their lease expired), publishing their
   * terminal events through the kind's `interrupted` hook. `dev` and `start`
   * call it after `createApp`; the hub repeats it every `leaseMs / 3` once
   * called. Resolves with the runs it ended.
   */
  recoverRuns(): Promise<RunRecord[]> {
    return this.#runs.recover();
  }

  /** Runs started by this hub that have not ended yet. */
  get runsInFlight(): number {
    return this.#runs.localRunCount();
  }

  /**
   * Resolves once the runs this hub is running or ending (of `sessionId`, or
   * all) have ended and their terminal events are published. A run's state in
   * the store changes just before its hook publishes; tests that read the
   * timeline after a run ended wait here (the test kit's `awaitRuns` does).
   */
  runsSettled(sessionId?: string): Promise<void> {
    return this.#runs.settled(sessionId);
  }

  /** This hub's run owner id (`<host>:<pid>:<random>` by default). */
  get runOwner(): string {
    return this.#runs.owner;
  }

  /** Adds a UI projection. Several run in registration order; their outputs are concatenated. */
  registerUIProjection(projection: UIProjection<S>): this {
    this.#projections.ui.push(projection);
    return this;
  }

  /** Adds a timeline projection. Several run in registration order; their outputs are concatenated. */
  registerTimelineProjection(projection: TimelineProjection<S>): this {
    this.#projections.timeline.push(projection);
    return this;
  }

  /** Adds a UI fanout; returns a function that removes it. */
  attachFanout(fanout: UIFanout): () => void {
    return this.#fanouts.add(fanout);
  }

  /** Observes every applied event (after the store write); returns a function that stops observing. */
  observe(listener: (applied: AppliedEvent) => void): () => void {
    return this.#observers.add(listener);
  }

  /** Names of the commands that have a handler. */
  handledCommands(): string[] {
    return [...this.#handlers.keys()];
  }

  /**
   * Runs the command's handler. Validates the session id, that the command is
   * registered and has a handler, and the payload type (a plain init object is
   * accepted and `create`d). Resolves when the handler has returned.
   */
  async submit<N extends NamesOf<S["commands"]>>(
    sessionId: string,
    name: N,
    payload: PayloadInputOf<S["commands"], N>,
  ): Promise<void> {
    this.#assertOpen();
    if (this.#closing) throw new SessionstreamError("closed", "the hub is closing");
    validateSessionId(sessionId, this.#maxSessionIdLength);
    const schema = this.registry.require("commands", name);
    const handler = this.#handlers.get(name);
    if (!handler) {
      throw new SessionstreamError("not_implemented", `not implemented: no handler is registered for command "${name}"`);
    }
    const message = coercePayload(schema, payload, "command", name);
    this.#activeSubmits.set(sessionId, (this.#activeSubmits.get(sessionId) ?? 0) + 1);
    try {
      const session = await this.#sessions.get(sessionId);
      await handler({ name, sessionId, payload: message } as never, session, this.#commandPublisher(sessionId));
    } catch (err) {
      this.#report("handler", sessionId, err, { commandName: name });
      throw err;
    } finally {
      const left = this.#activeSubmits.get(sessionId)! - 1;
      if (left === 0) this.#activeSubmits.delete(sessionId);
      else this.#activeSubmits.set(sessionId, left);
    }
  }

  /** A publisher for one session, for work that is not a command (timers, detached jobs). */
  publisher(sessionId: string): EventPublisher<S> {
    validateSessionId(sessionId, this.#maxSessionIdLength);
    return {
      sessionId,
      publish: (name, payload) => this.#publish(sessionId, name, payload),
    };
  }

  /** The publisher a command handler gets: publishes, and starts and stops the session's runs. */
  #commandPublisher(sessionId: string): CommandPublisher<S> {
    return {
      sessionId,
      publish: (name, payload) => this.#publish(sessionId, name, payload),
      startRun: (spec, work) => this.startRun(sessionId, spec, work),
      stopRun: async (runId) => {
        // Only a run of this session: a command of one session never stops another's.
        const run = await this.#runs.get(runId);
        if (!run || run.sessionId !== sessionId) return { runId, stopped: false, state: "unknown" };
        return this.#runs.stop(runId);
      },
      stopRuns: () => this.#runs.stopSession(sessionId),
      runs: () => this.#runs.list(sessionId),
    };
  }

  /** The session, created (with its metadata) on first reference. */
  session(sessionId: string): Promise<Session> {
    validateSessionId(sessionId, this.#maxSessionIdLength);
    return this.#sessions.get(sessionId);
  }

  /** The current snapshot of a session's timeline (`changedAfter` for a delta). */
  async snapshot(sessionId: string, options?: SnapshotOptions): Promise<Snapshot> {
    validateSessionId(sessionId, this.#maxSessionIdLength);
    const store = this.store;
    // A timeline behind the event log (a crash, another store instance) is
    // caught up first: loading the session's state does it.
    if (hasTimelineCatchUp(store) && !this.#states.get(sessionId)?.loaded) {
      const behind = await this.#read(sessionId, "snapshot", () => store.timelineBehind(sessionId));
      if (behind !== undefined) await this.#state(sessionId);
    }
    return this.#read(sessionId, "snapshot", () => store.snapshot(sessionId, options));
  }

  /** The highest applied ordinal of a session (0n when it has no events). */
  async cursor(sessionId: string): Promise<bigint> {
    validateSessionId(sessionId, this.#maxSessionIdLength);
    const slot = this.#states.get(sessionId);
    return slot ? (await slot.loading).cursor : this.#read(sessionId, "cursor", () => this.store.cursor(sessionId));
  }

  /**
   * Replays the session's event log through the timeline projections into a
   * fresh timeline and swaps it in atomically, bumping the timeline epoch.
   * Until the swap, readers (snapshots, the transport) see the old timeline;
   * a crash before it leaves the old timeline in the store, and if a
   * projection fails (`fail` policy) nothing changes. Needs a store with the
   * event log and timeline replace (or reset) capabilities. Ordered with event
   * application: events published meanwhile wait. Resolves with the rebuilt
   * snapshot.
   */
  async rebuildTimeline(sessionId: string): Promise<Snapshot> {
    this.#assertOpen();
    validateSessionId(sessionId, this.#maxSessionIdLength);
    const store = this.store;
    if (!hasEventLog(store) || (!hasTimelineReplace(store) && !hasTimelineReset(store))) {
      throw new SessionstreamError(
        "capability_missing",
        "rebuildTimeline needs a store with an event log and timeline replace (MemoryHydrationStore, SqliteHydrationStore or PostgresHydrationStore)",
      );
    }
    await this.#queue.run(sessionId, async () => {
      const state = await this.#state(sessionId);
      const session = await this.#sessions.get(sessionId);
      const rebuilt = new TimelineState(sessionId);
      const readPage = (after: bigint) => this.#read(sessionId, "event log", () => store.readEvents(sessionId, after, this.#rebuildPageSize));
      const replayed = await this.#replayTimeline(session, rebuilt, readPage, 0n, undefined, false);
      rebuilt.ordinal = state.cursor;
      try {
        if (hasTimelineReplace(store)) {
          await store.replaceTimeline(sessionId, { entities: rebuilt.entries(), timelineCursor: replayed });
        } else {
          // A store without the replace capability: the window between reset and
          // apply is one call long, but not crash-safe.
          await store.resetTimeline(sessionId);
          await store.apply({ sessionId, ordinal: replayed, entities: rebuilt.entries() });
        }
      } catch (err) {
        const error = new SessionstreamError(
          "store_failed",
          `store write failed while rebuilding the timeline of session "${sessionId}": ${errorMessage(err)}`,
          { cause: err },
        );
        this.#report("store", sessionId, error, {});
        throw error;
      }
      if (!this.#liveTimelines) state.timeline.replaceWith(rebuilt);
      for (const fanout of this.#fanouts.items) {
        try {
          fanout.timelineRebuilt?.(sessionId);
        } catch (err) {
          this.#report("fanout", sessionId, err, {});
        }
      }
    });
    return this.snapshot(sessionId);
  }

  /**
   * Runs both projection families on an already-applied event against a
   * timeline of the caller's (`timeline` is read, never changed) and returns
   * what they derive: nothing is stored, fanned out or observed. For replay
   * tools that rebuild a session in memory ordinal by ordinal (the
   * consistency oracle of `sessionstream/testing`, the drift check of
   * `sessionstream dev`). Projection failures follow the hub's policy
   * (`fail` rejects) and reach `onError` but are never recorded in the store.
   */
  async replayEvent(event: BackendEventEnvelope, timeline: TimelineState): Promise<AppliedEvent> {
    const session = await this.#sessions.get(event.sessionId);
    timeline.ordinal = event.ordinal - 1n;
    const uiEvents = await this.#projections.projectUI(event, session, timeline);
    const entities = await this.#projections.projectTimeline(event, session, timeline, true);
    return { event, uiEvents, entities };
  }

  /**
   * Stops accepting commands and runs, waits up to `runGraceMs` (default
   * `runs.shutdownGraceMs`, 10000) for runs in flight to end, interrupts the
   * rest through their kind's `interrupted` hook, waits for queued events to
   * be applied, then stops. Does not close the store.
   */
  close(options: { readonly runGraceMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.runGraceMs);
    return this.#closing;
  }

  /**
   * Hands this hub's work to `next`, a hub of the same app on the same
   * store in this process (what `dev` does on a reload): commands and new
   * runs are refused here from now on; events already queued are applied
   * here; runs in flight keep running, and everything they (and this hub's
   * publishers) publish goes through `next`, whose `stopRun`/`stopRuns`
   * reach them. After `runGraceMs` (default `runs.shutdownGraceMs`) the runs
   * still going are interrupted through their kind's hook. Resolves once
   * `next` takes the events (this hub's queue is idle); `drained` resolves
   * when the last handed-over run has ended (close this hub's store then).
   */
  async handOver(next: Hub<any>, options: { readonly runGraceMs?: number } = {}): Promise<{ readonly runs: number; readonly drained: Promise<void> }> {
    this.#assertOpen();
    if (this.#closing) throw new SessionstreamError("closed", "the hub is closing");
    const idle = (async () => {
      await this.#queue.idle();
      return next;
    })();
    this.#successor = idle;
    const handed = this.#runs.handOver();
    const runs = this.#runs.localRunCount();
    const drained = this.#runs.close(options.runGraceMs);
    next.adoptRuns(handed, drained);
    this.#closing = (async () => {
      await idle;
      this.#closed = true;
      this.#detachBus();
      await this.#bus.close?.();
      await drained;
    })();
    await idle;
    return { runs, drained: this.#closing };
  }

  /** Takes over the runs of a predecessor (see {@link handOver}); not for apps. */
  adoptRuns(handed: RunHandOver, drained: Promise<void>): void {
    this.#runs.adopt(handed, drained);
  }

  async #close(runGraceMs: number | undefined): Promise<void> {
    if (this.#closed) return;
    await this.#runs.close(runGraceMs);
    this.#closed = true;
    await this.#queue.idle();
    this.#detachBus();
    await this.#bus.close?.();
  }

  #publish(sessionId: string, name: string, payload: unknown): Promise<bigint> {
    if (this.#successor) return this.#publishToSuccessor(this.#successor, sessionId, name, payload);
    try {
      this.#assertOpen();
      const schema = this.registry.require("events", name);
      const message = coercePayload(schema, payload, "event", name);
      if (this.#localBus) return this.#applyCached(sessionId, name, message) ?? this.#queue.runReleasing(sessionId, this.#applyTask, { sessionId, name, payload: message });
      return this.#bus.publish({ sessionId, name, payload: message });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // Apart from #publish: its closure would make every publish allocate a context.
  #publishToSuccessor(successor: Promise<Hub<any>>, sessionId: string, name: string, payload: unknown): Promise<bigint> {
    return successor.then((next) => next.publisher(sessionId).publish(name as never, payload as never));
  }

  /** The bus consumer: assigns the ordinal, projects, stores, fans out. */
  #consume(pending: PendingEvent): Promise<bigint> {
    return (pending.eventId === undefined ? this.#applyCached(pending.sessionId, pending.name, pending.payload) : undefined) ?? this.#queue.runReleasing(pending.sessionId, this.#applyTask, pending);
  }

  /**
   * The common case, applied right here with no queue turn and no async
   * function: nothing of the session is queued, its state and metadata are
   * cached, and (unless a projection or the store turns out asynchronous)
   * the event is applied before this returns. Work that does turn
   * asynchronous becomes the session's queue tail before anything else can
   * publish, so order is kept. Undefined when the event must take the queue.
   */
  #applyCached(sessionId: string, name: string, payload: PendingEvent["payload"]): Promise<bigint> | undefined {
    if (this.#queue.busy(sessionId)) return undefined;
    const state = this.#cachedState(sessionId);
    const session = state && this.#sessions.peek(sessionId);
    if (session === undefined) return undefined;
    try {
      const ordinal = this.#project(state!, session, sessionId, name, payload, undefined, undefined);
      return typeof ordinal === "bigint" ? Promise.resolve(ordinal) : this.#holdTurn(sessionId, ordinal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Makes work that turned asynchronous the session's queue tail until it settles (a closure here, not in `#applyCached`). */
  #holdTurn(sessionId: string, pending: Promise<bigint>): Promise<bigint> {
    return this.#queue.run(sessionId, () => pending);
  }

  /** The cluster bus's consumer: like `#consume`, resolving with what was applied for its "applied" notice. */
  async #applyForCluster(pending: PendingEvent): Promise<ClusterApplyResult> {
    const details: ApplyDetails = {};
    await this.#queue.runReleasing(pending.sessionId, (turn) => this.#applyInOrder(pending, turn, details), undefined);
    return details.result!;
  }

  /**
   * An event another process applied: a cached state behind it is dropped
   * (the next event here reloads it from the store), then the UI events go
   * to this process's fanouts and the event to its observers.
   */
  #deliverRemote(applied: AppliedEvent): void {
    const { sessionId, ordinal } = applied.event;
    this.#dropStateBehind(sessionId, ordinal);
    this.#deliver(sessionId, ordinal, applied);
  }

  /** A redelivery another process found applied already (its "duplicate" notice): see `#duplicate`. */
  #missedRemote(sessionId: string, ordinal: bigint): void {
    this.#dropStateBehind(sessionId, ordinal);
    this.#missed(sessionId, ordinal);
  }

  #dropStateBehind(sessionId: string, ordinal: bigint): void {
    const cached = this.#states.get(sessionId)?.loaded;
    if (cached && cached.cursor < ordinal) this.#dropState(sessionId);
  }

  #dropState(sessionId: string): void {
    this.#states.delete(sessionId);
  }

  // Runs inside the session's queue and releases it when done: the path of
  // an event queued behind others, of a session not cached, and of events
  // with ids (cluster buses).
  async #applyInOrder(pending: PendingEvent, turn: QueueTurn, details?: ApplyDetails): Promise<bigint> {
    try {
      const { sessionId, name, payload, eventId } = pending;
      let state = this.#cachedState(sessionId) ?? (await this.#state(sessionId));
      const store = this.store;
      // An event from a cluster bus: applied at most once per id, and never
      // projected on a cached view another node has moved past.
      if (eventId !== undefined && hasEventIds(store)) {
        const found = await this.#read(sessionId, "event id", () => store.lookupEvent(sessionId, eventId));
        if (found.ordinal !== undefined) {
          if (found.cursor !== state.cursor) this.#dropState(sessionId);
          return this.#duplicate(sessionId, name, payload, found.ordinal, details);
        }
        if (found.cursor !== state.cursor) {
          this.#dropState(sessionId);
          state = await this.#state(sessionId);
        }
      }
      const session = this.#sessions.peek(sessionId) ?? (await this.#sessions.get(sessionId));
      const ordinal = this.#project(state, session, sessionId, name, payload, eventId, details);
      return typeof ordinal === "bigint" ? ordinal : await ordinal;
    } finally {
      turn.release();
    }
  }

  /**
   * Assigns the next ordinal, projects, stores and delivers one event on a
   * loaded state. Synchronous (no promise, no microtask) unless a projection
   * or the store write is asynchronous; the caller holds the session's turn.
   */
  #project(
    state: SessionState,
    session: Session,
    sessionId: string,
    name: string,
    payload: PendingEvent["payload"],
    eventId: string | undefined,
    details: ApplyDetails | undefined,
  ): bigint | Promise<bigint> {
    const event = storedEvent(sessionId, state.cursor + 1n, name, payload, this.#clock(), eventId);
    const uiEvents = this.#projections.projectUI(event, session, state.timeline);
    if (uiEvents instanceof Promise) return this.#projectAsync(state, session, event, uiEvents, eventId, details);
    const entities = this.#projections.projectTimeline(event, session, state.timeline);
    if (entities instanceof Promise) return this.#projectAsync(state, session, event, uiEvents, eventId, details, entities);
    return this.#write(state, { sessionId, ordinal: event.ordinal, event, uiEvents, entities }, eventId, details);
  }

  /** `#project` once a projection returned a promise: the rest in order. */
  async #projectAsync(
    state: SessionState,
    session: Session,
    event: AppliedRecord["event"],
    ui: UIEvent[] | Promise<UIEvent[]>,
    eventId: string | undefined,
    details: ApplyDetails | undefined,
    timeline?: Promise<TimelineEntity[]>,
  ): Promise<bigint> {
    const uiEvents = await ui;
    const entities = await (timeline ?? this.#projections.projectTimeline(event, session, state.timeline));
    return this.#write(state, { sessionId: event.sessionId, ordinal: event.ordinal, event, uiEvents, entities }, eventId, details);
  }

  /** Stores the projected event, then advances the state and delivers it. */
  #write(state: SessionState, applied: AppliedRecord, eventId: string | undefined, details: ApplyDetails | undefined): bigint | Promise<bigint> {
    if (this.#syncStore) {
      try {
        this.#syncStore.applyNow(applied);
      } catch (err) {
        return this.#writeFailed(err, state, applied, eventId, details);
      }
      return this.#applied(state, applied, details);
    }
    return this.#writeAsync(state, applied, eventId, details);
  }

  // Apart from #write: its closures would make every call allocate a context, synchronous store or not.
  #writeAsync(state: SessionState, applied: AppliedRecord, eventId: string | undefined, details: ApplyDetails | undefined): Promise<bigint> {
    return this.store.apply(applied).then(
      () => this.#applied(state, applied, details),
      (err: unknown) => this.#writeFailed(err, state, applied, eventId, details),
    );
  }

  /** A store write that threw: the event may have landed after all, else `store_failed` (or `store_unavailable`) is reported and thrown. */
  async #writeFailed(err: unknown, state: SessionState, applied: AppliedEvent, eventId: string | undefined, details: ApplyDetails | undefined): Promise<bigint> {
    const store = this.store;
    const { sessionId, ordinal, name, payload } = applied.event;
    // With event ids the store can say whether the event landed after all
    // (the commit raced a lost connection, or another node applied it).
    const landed = eventId !== undefined && hasEventIds(store) ? await store.lookupEvent(sessionId, eventId).catch(() => undefined) : undefined;
    if (landed?.ordinal !== undefined && landed.ordinal !== ordinal) {
      this.#dropState(sessionId);
      return this.#duplicate(sessionId, name, payload, landed.ordinal, details);
    }
    if (landed?.ordinal === ordinal) return this.#applied(state, applied, details);
    // An unreachable store keeps its own code: the caller may retry later.
    const error = new SessionstreamError(
      err instanceof SessionstreamError && err.code === "store_unavailable" ? "store_unavailable" : "store_failed",
      `store write failed for event "${name}" (ordinal ${ordinal}) in session "${sessionId}": ${errorMessage(err)}`,
      { cause: err },
    );
    this.#report("store", sessionId, error, { ordinal, eventName: name });
    // The write may have committed before the failure was seen (a lost
    // connection), or another writer took the ordinal: the next event
    // reloads the cursor and timeline from the store.
    this.#dropState(sessionId);
    throw error;
  }

  #applied(state: SessionState, applied: AppliedEvent, details: ApplyDetails | undefined): bigint {
    const { sessionId, ordinal } = applied.event;
    state.cursor = ordinal;
    if (!this.#liveTimelines) state.timeline.apply(ordinal, applied.entities);
    this.#deliver(sessionId, ordinal, applied);
    if (details) details.result = { applied, duplicate: false };
    return ordinal;
  }

  /**
   * A redelivered event the store already has: nothing is projected, written
   * or fanned out again. The node that applied it may have died before its
   * notice, so this process's subscribers may lack it: fanouts hear `missed`.
   */
  #duplicate(sessionId: string, name: string, payload: PendingEvent["payload"], ordinal: bigint, details: ApplyDetails | undefined): bigint {
    if (details) details.result = { applied: { event: { sessionId, name, ordinal, payload }, uiEvents: [], entities: [] }, duplicate: true };
    this.#missed(sessionId, ordinal);
    return ordinal;
  }

  /** Tells the fanouts that event `ordinal` was applied without this process seeing its UI events. */
  #missed(sessionId: string, ordinal: bigint): void {
    for (const fanout of this.#fanouts.items) {
      try {
        fanout.missed?.(sessionId, ordinal);
      } catch (err) {
        this.#report("fanout", sessionId, err, { ordinal });
      }
    }
  }

  #recordError(kind: RuntimeErrorKind, event: BackendEventEnvelope, error: SessionstreamError): void {
    const store = this.store;
    if (!hasErrorRecords(store)) return;
    store
      .recordError({
        sessionId: event.sessionId,
        ordinal: event.ordinal,
        eventName: event.name,
        kind,
        code: error.code,
        message: error.message,
        recordedAt: this.#clock(),
      })
      .catch((recordErr) => this.#report("store", event.sessionId, recordErr, { ordinal: event.ordinal, eventName: event.name }));
  }

  #deliver(sessionId: string, ordinal: bigint, applied: AppliedEvent): void {
    const withUI = applied.uiEvents.length > 0;
    const fanouts = this.#fanouts.items;
    for (let i = 0; i < fanouts.length; i++) {
      const fanout = fanouts[i]!;
      try {
        if (withUI) {
          const done = fanout.publishUI(sessionId, ordinal, applied.uiEvents);
          if (done) this.#watchFanout(done, sessionId, ordinal, applied.event.name);
        } else {
          fanout.advance?.(sessionId, ordinal);
        }
      } catch (err) {
        this.#report("fanout", sessionId, err, { ordinal, eventName: applied.event.name });
      }
    }
    const observers = this.#observers.items;
    for (let i = 0; i < observers.length; i++) {
      try {
        observers[i]!(applied);
      } catch (err) {
        this.#report("observer", sessionId, err, { ordinal, eventName: applied.event.name });
      }
    }
  }

  // Apart from #deliver: a closure there would make every delivery allocate a context.
  #watchFanout(done: Promise<void>, sessionId: string, ordinal: bigint, eventName: string): void {
    done.catch((err) => this.#report("fanout", sessionId, err, { ordinal, eventName }));
  }

  /** Loads the cursor and timeline of a session from the store, cached (LRU) across events. */
  #state(sessionId: string): Promise<SessionState> {
    const cached = this.#states.touch(sessionId);
    if (cached) return cached.loading;
    const loading = this.#read(sessionId, "session state", () => this.#loadState(sessionId)).then((loaded) => {
      if (this.#states.get(sessionId) === slot) slot.loaded = loaded;
      return loaded;
    });
    const slot: StateSlot = { loading, loaded: undefined };
    this.#states.set(sessionId, slot);
    loading.catch(() => {
      if (this.#states.get(sessionId) === slot) this.#states.delete(sessionId);
    });
    this.#evictIdleStates(sessionId);
    return loading;
  }

  async #loadState(sessionId: string): Promise<SessionState> {
    const store = this.store;
    if (hasLiveTimeline(store)) return { cursor: await store.cursor(sessionId), timeline: store.liveTimeline(sessionId) };
    const snap = await store.snapshot(sessionId);
    const state = { cursor: snap.snapshotOrdinal, timeline: new TimelineState(sessionId, snap.snapshotOrdinal, snap.entities) };
    if (hasTimelineCatchUp(store) && hasEventLog(store)) {
      const behind = await store.timelineBehind(sessionId);
      if (behind !== undefined && behind > state.cursor) await this.#catchUp(store, state, behind);
    }
    return state;
  }

  /**
   * Replays the events after the loaded timeline, up to `to`, through the
   * timeline projections and applies what they changed as one timeline-only
   * change. A projection that fails here is reported and its event skipped:
   * the events are committed, and a session must not stay unloadable.
   */
  async #catchUp(store: HydrationStore & EventLogStore, state: SessionState, to: bigint): Promise<void> {
    const sessionId = state.timeline.sessionId;
    const session = await this.#sessions.get(sessionId);
    const from = state.cursor;
    const readPage = (after: bigint) => store.readEvents(sessionId, after, this.#rebuildPageSize);
    const last = await this.#replayTimeline(session, state.timeline, readPage, from, to, true);
    state.timeline.ordinal = last;
    state.cursor = last;
    await store.apply({ sessionId, ordinal: last, entities: state.timeline.entries().filter((e) => e.lastEventOrdinal > from) });
  }

  /**
   * Replays the logged events after `after` (up to `to`, or all) through the
   * timeline projections into `timeline`, as rebuilds and catch-ups do (UI
   * projections do not run: their events were delivered, or lost with a
   * process). Resolves with the last ordinal replayed. A failing projection
   * rejects, unless `skipFailures`: then its event changes nothing (the
   * projection runner has reported it).
   */
  async #replayTimeline(
    session: Session,
    timeline: TimelineState,
    readPage: (after: bigint) => Promise<StoredEvent[]>,
    after: bigint,
    to: bigint | undefined,
    skipFailures: boolean,
  ): Promise<bigint> {
    let replayed = after;
    for (;;) {
      const page = await readPage(replayed);
      if (page.length === 0) return replayed;
      for (const stored of page) {
        if (to !== undefined && stored.ordinal > to) return replayed;
        const event = toEnvelope(stored);
        timeline.ordinal = event.ordinal - 1n;
        let entities: TimelineEntity[] = [];
        try {
          entities = await this.#projections.projectTimeline(event, session, timeline, true);
        } catch (err) {
          if (!skipFailures) throw err;
        }
        timeline.apply(event.ordinal, entities);
        replayed = event.ordinal;
      }
      if (to !== undefined && replayed >= to) return replayed;
    }
  }

  /** The loaded state of a session, if cached, refreshing its recency. */
  #cachedState(sessionId: string): SessionState | undefined {
    return this.#states.touch(sessionId)?.loaded;
  }

  #evictIdleStates(keep: string): void {
    if (this.#states.size <= this.#maxCachedSessions) return;
    for (const sessionId of this.#states.evictionOrder()) {
      if (this.#states.size <= this.#maxCachedSessions) break;
      // A session with queued work keeps its state: its next event needs it.
      if (sessionId !== keep && !this.#busy(sessionId)) this.#dropState(sessionId);
    }
  }

  /** Sessions whose state is cached in memory (for tests and stats). */
  cachedSessionCount(): number {
    return this.#states.size;
  }

  /** Sessions in the session table (at most `maxCachedSessions` plus busy ones; for tests and stats). */
  sessionCount(): number {
    return this.#sessions.size;
  }

  #busy(sessionId: string): boolean {
    return this.#queue.busy(sessionId) || this.#activeSubmits.has(sessionId);
  }

  /** Runs a store read; any failure becomes `store_failed` (with the cause), reported to `onError`. */
  async #read<T>(sessionId: string, what: StoreRead, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      const error =
        err instanceof SessionstreamError
          ? err
          : new SessionstreamError("store_failed", `store read failed (${what} of session "${sessionId}"): ${errorMessage(err)}`, {
              cause: err,
            });
      this.#report("store", sessionId, error, {});
      throw error;
    }
  }

  #report(
    kind: RuntimeErrorKind,
    sessionId: string,
    err: unknown,
    where: { ordinal?: bigint; eventName?: string; commandName?: string },
  ): void {
    try {
      this.#onError({ kind, sessionId, ...where, error: SessionstreamError.from(err) });
    } catch {
      // The observer must never take the hub down.
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new SessionstreamError("closed", "the hub is closed");
  }
}

// Literals, not a spread: a spread of `{ eventId }` costs more than the rest of the object.
function storedEvent(sessionId: string, ordinal: bigint, name: string, payload: StoredEvent["payload"], appliedAt: number, eventId: string | undefined): AppliedRecord["event"] {
  return eventId === undefined ? { sessionId, ordinal, name, payload, appliedAt } : { sessionId, ordinal, name, payload, appliedAt, eventId };
}

function toEnvelope(stored: StoredEvent): BackendEventEnvelope {
  return { name: stored.name, sessionId: stored.sessionId, ordinal: stored.ordinal, payload: stored.payload };
}


function logError(report: RuntimeErrorReport): void {
  const where = [
    `session "${report.sessionId}"`,
    report.ordinal !== undefined ? `ordinal ${report.ordinal}` : "",
    report.eventName ? `event "${report.eventName}"` : "",
    report.commandName ? `command "${report.commandName}"` : "",
  ].filter(Boolean);
  console.error(`[sessionstream] ${report.kind} error (${report.error.code}) at ${where.join(", ")}: ${report.error.message}`);
}
