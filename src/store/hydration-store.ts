import type { Message } from "@bufbuild/protobuf";
import type { SchemaRegistry } from "../runtime/registry.js";
import type { Snapshot, SnapshotOptions, TimelineEntity, TimelineState, TimelineView } from "../runtime/timeline.js";

/** A backend event as recorded in a store's event log. */
export interface StoredEvent {
  readonly sessionId: string;
  readonly ordinal: bigint;
  readonly name: string;
  readonly payload: Message;
  /** Milliseconds since the epoch when the event was applied. */
  readonly appliedAt: number;
  /** The bus's idempotency key (`PendingEvent.eventId`), kept by an {@link EventIdStore}. */
  readonly eventId?: string;
}

/**
 * Everything one accepted event changes, written atomically by `apply`:
 * the event log row, the entity upserts/tombstones, the session cursor and
 * the timeline projection cursor.
 */
export interface ApplyBatch {
  readonly sessionId: string;
  readonly ordinal: bigint;
  /** The event to append to the log; absent when replaying (rebuild), which leaves the session cursor alone. */
  readonly event?: StoredEvent;
  /** Entities with their ordinals filled in; tombstones remove from snapshots. */
  readonly entities: readonly TimelineEntity[];
}

/**
 * The storage contract of the hub: apply an event's effects atomically,
 * read snapshots and views, and report the session cursor (the highest
 * applied ordinal, 0n for a new session).
 */
export interface HydrationStore {
  /** Applies one event's effects in a single transaction; rejects and changes nothing on failure. */
  apply(batch: ApplyBatch): Promise<void>;
  snapshot(sessionId: string, options?: SnapshotOptions): Promise<Snapshot>;
  /** A read-only view of the session's current timeline. */
  view(sessionId: string): Promise<TimelineView>;
  cursor(sessionId: string): Promise<bigint>;
  close?(): Promise<void>;
}

/** Capability: the store keeps the event log and can page through it. */
export interface EventLogStore {
  /** Events with ordinal > `after`, ascending, at most `limit` (default: the store's page size). */
  readEvents(sessionId: string, after: bigint, limit?: number): Promise<StoredEvent[]>;
}

/** Capability: the store tracks how far the timeline projection has got per session. */
export interface ProjectionCursorStore {
  timelineCursor(sessionId: string): Promise<bigint>;
}

/** Capability: the store can wipe a session's timeline (for rebuilds); bumps its epoch. */
export interface TimelineResetStore {
  resetTimeline(sessionId: string): Promise<void>;
  /** Starts at 1; increases each time the timeline is reset, so clients can tell history was rewritten. */
  timelineEpoch(sessionId: string): Promise<bigint>;
}

/** A session's whole timeline as a rebuild produced it, for {@link TimelineReplaceStore}. */
export interface ReplacementTimeline {
  /** Every entity, tombstones included (delta snapshots still report removals). */
  readonly entities: readonly TimelineEntity[];
  /** The last event the rebuild replayed: the new timeline projection cursor. */
  readonly timelineCursor: bigint;
}

/**
 * Capability: the store can swap a session's whole timeline in one atomic
 * write and bump its epoch. `rebuildTimeline` uses it so that a reader, or a
 * store reopened after a crash, sees the old or the rebuilt timeline, never a
 * partly replayed one.
 */
export interface TimelineReplaceStore {
  /** Replaces the timeline and timeline cursor and bumps the epoch, atomically; resolves with the new epoch. */
  replaceTimeline(sessionId: string, timeline: ReplacementTimeline): Promise<bigint>;
}

/**
 * Capability: the store holds each session's timeline as an in-memory
 * {@link TimelineState} that its own writes (`apply`, timeline reset and
 * replace) change in place, as the memory store does. The hub projects
 * against that timeline instead of keeping a second copy of every entity.
 */
export interface LiveTimelineStore {
  /** The session's timeline, empty for a new session. Readers must not change it. */
  liveTimeline(sessionId: string): TimelineState;
  /**
   * `apply`, done before it returns (the store has nothing to wait for);
   * throws instead of rejecting. The hub then applies an event without a
   * promise and a suspension per event.
   */
  applyNow?(batch: ApplyBatch): void;
}

/**
 * Capability: the store may hold a session's timeline behind its event log.
 * The SQLite store writes entities behind the events (`timelineWriteDelayMs`),
 * so a killed process, or a second store instance on the same file, finds
 * the timeline short of the last events. Before it projects or serves such a
 * session, the hub replays the events after the snapshot through the
 * timeline projections and applies what they derive (a timeline-only
 * apply); nothing acknowledged is lost, since every event was committed.
 */
export interface TimelineCatchUpStore {
  /** The event cursor when a snapshot would stop short of it; undefined when the timeline is up to date. */
  timelineBehind(sessionId: string): Promise<bigint | undefined>;
}

/** A recorded runtime error (the dead-letter table). */
export interface ErrorRecord {
  readonly sessionId: string;
  readonly ordinal?: bigint;
  readonly eventName?: string;
  readonly kind: string;
  readonly code: string;
  readonly message: string;
  readonly recordedAt: number;
}

/** Capability: the store keeps error records. */
export interface ErrorRecordStore {
  recordError(record: ErrorRecord): Promise<void>;
  listErrors(sessionId?: string, limit?: number): Promise<ErrorRecord[]>;
}

/** Capability: the store can list the sessions it knows. */
export interface SessionListStore {
  listSessions(): Promise<Array<{ sessionId: string; cursor: bigint }>>;
}

/** What {@link EventIdStore.lookupEvent} reads, in one consistent read. */
export interface EventLookup {
  /** The session cursor (0n for a new session). */
  readonly cursor: bigint;
  /** The ordinal of the event with that id, when it is already applied. */
  readonly ordinal: bigint | undefined;
}

/**
 * Capability: the store keeps each event's id (`StoredEvent.eventId`),
 * refuses a second event with the same id in a session, and answers whether
 * an id is applied together with the durable cursor. A hub on a cluster bus
 * uses it before projecting: a redelivered event is not applied again, and a
 * cached cursor behind the store's (another node applied meanwhile) is
 * reloaded.
 */
export interface EventIdStore {
  lookupEvent(sessionId: string, eventId: string): Promise<EventLookup>;
}

/** Where a run is in its life (see `src/runtime/runs.ts`): `running`, then exactly one terminal state. */
export type RunState = "running" | "finished" | "failed" | "stopped" | "interrupted";

/** The terminal states of a run. */
export type RunEndState = Exclude<RunState, "running">;

/** A run as a {@link RunStore} keeps it. */
export interface RunRecord {
  readonly runId: string;
  readonly sessionId: string;
  /** The app's name for this kind of work (e.g. `"chat.answer"`); selects the hooks that end it. */
  readonly kind: string;
  /** The hub (process, node) that runs it: `<host>:<pid>:<random>`. */
  readonly owner: string;
  readonly state: RunState;
  /** App data the hooks need to publish terminal events (e.g. the message id), kept as JSON. */
  readonly data: Readonly<Record<string, unknown>>;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
  /** When the owner last said it is alive (milliseconds since the epoch). */
  readonly heartbeatAt: number;
  /** When the run reached its terminal state. */
  readonly endedAt?: number;
  /** Why a `failed` run failed. */
  readonly error?: string;
  /** True once a stop was asked for through the store (by another process); the owner aborts it at its next heartbeat. */
  readonly stopRequested: boolean;
}

/**
 * Capability: the store records runs durably, so that a process that dies
 * mid-run leaves a record the next one resolves. `endRun` is the single
 * point where a run's terminal state is decided: it changes a `running` run
 * only, so whoever ends it first (its work, a stop, a recovery on another
 * node) wins and the terminal events are published exactly once.
 */
export interface RunStore {
  createRun(run: RunRecord): Promise<void>;
  /** Moves a running run to `state`; resolves false (and changes nothing) when it had already ended. */
  endRun(runId: string, state: RunEndState, endedAt: number, error?: string): Promise<boolean>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** The session's runs, oldest first. */
  listRuns(sessionId: string): Promise<RunRecord[]>;
  /** Every run still `running`, whoever owns it (for recovery). */
  listRunningRuns(): Promise<RunRecord[]>;
  /** Renews the heartbeat of `owner`'s running runs; resolves with the ids of those a stop was requested for. */
  heartbeatRuns(owner: string, now: number): Promise<string[]>;
  /** Asks the owner of a running run to stop it; resolves false when the run is not running. */
  requestRunStop(runId: string): Promise<boolean>;
}

/** Capability: the store decodes payloads with a registry the hub hands it. */
export interface RegistryBoundStore {
  bindRegistry(registry: SchemaRegistry<any>): void;
}

/** Whether the store keeps the event log ({@link EventLogStore}: append, read after an ordinal). */
export function hasEventLog(store: HydrationStore): store is HydrationStore & EventLogStore {
  return typeof (store as Partial<EventLogStore>).readEvents === "function";
}
/** Whether the store tracks projection cursors ({@link ProjectionCursorStore}). */
export function hasProjectionCursor(store: HydrationStore): store is HydrationStore & ProjectionCursorStore {
  return typeof (store as Partial<ProjectionCursorStore>).timelineCursor === "function";
}
/** Whether the store can drop a session's timeline ({@link TimelineResetStore}). */
export function hasTimelineReset(store: HydrationStore): store is HydrationStore & TimelineResetStore {
  return typeof (store as Partial<TimelineResetStore>).resetTimeline === "function";
}
/** Whether the store can swap in a rebuilt timeline atomically (`TimelineReplaceStore`). */
export function hasTimelineReplace(store: HydrationStore): store is HydrationStore & TimelineReplaceStore {
  return typeof (store as Partial<TimelineReplaceStore>).replaceTimeline === "function";
}
/** Whether the store's writes keep a live in-memory timeline the hub can read ({@link LiveTimelineStore}). */
export function hasLiveTimeline(store: HydrationStore): store is HydrationStore & LiveTimelineStore {
  return typeof (store as Partial<LiveTimelineStore>).liveTimeline === "function";
}
/** Whether the store records runtime errors ({@link ErrorRecordStore}). */
export function hasErrorRecords(store: HydrationStore): store is HydrationStore & ErrorRecordStore {
  return typeof (store as Partial<ErrorRecordStore>).recordError === "function";
}
/** Whether the store can list its sessions ({@link SessionListStore}). */
export function hasSessionList(store: HydrationStore): store is HydrationStore & SessionListStore {
  return typeof (store as Partial<SessionListStore>).listSessions === "function";
}
/** Whether the store keeps event ids for exactly-once application ({@link EventIdStore}). */
export function hasEventIds(store: HydrationStore): store is HydrationStore & EventIdStore {
  return typeof (store as Partial<EventIdStore>).lookupEvent === "function";
}
/** Whether the store records runs (`RunStore`). */
export function hasRuns(store: HydrationStore): store is HydrationStore & RunStore {
  return typeof (store as Partial<RunStore>).createRun === "function";
}
/** Whether the timeline may lag the event log ({@link TimelineCatchUpStore}); the hub catches it up. */
export function hasTimelineCatchUp(store: HydrationStore): store is HydrationStore & TimelineCatchUpStore {
  return typeof (store as Partial<TimelineCatchUpStore>).timelineBehind === "function";
}
/** Whether the store needs the hub's registry to decode payloads ({@link RegistryBoundStore}); the hub binds it. */
export function isRegistryBound(store: HydrationStore): store is HydrationStore & RegistryBoundStore {
  return typeof (store as Partial<RegistryBoundStore>).bindRegistry === "function";
}
