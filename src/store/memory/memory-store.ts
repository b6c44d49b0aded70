import { TimelineState, type Snapshot, type SnapshotOptions, type TimelineView } from "../../runtime/timeline.js";
import type {
  ApplyBatch,
  ErrorRecord,
  ErrorRecordStore,
  EventLogStore,
  HydrationStore,
  LiveTimelineStore,
  ProjectionCursorStore,
  ReplacementTimeline,
  RunEndState,
  RunRecord,
  RunStore,
  SessionListStore,
  StoredEvent,
  TimelineReplaceStore,
  TimelineResetStore,
} from "../hydration-store.js";

/** Options of {@link MemoryHydrationStore}. */
export interface MemoryHydrationStoreOptions {
  /** Default page size of `readEvents`. Default 500. */
  readonly pageSize?: number;
  /** Error records kept (oldest dropped first). Default 1000. */
  readonly maxErrorRecords?: number;
}

interface SessionData {
  cursor: bigint;
  timelineCursor: bigint;
  epoch: bigint;
  readonly timeline: TimelineState;
  readonly events: StoredEvent[];
}

/**
 * The default store: everything in process memory, lost on exit. Implements
 * every optional capability so tests exercise the same paths as SQLite.
 */
export class MemoryHydrationStore
  implements
    HydrationStore,
    LiveTimelineStore,
    EventLogStore,
    ProjectionCursorStore,
    TimelineResetStore,
    TimelineReplaceStore,
    ErrorRecordStore,
    SessionListStore,
    RunStore
{
  readonly #sessions = new Map<string, SessionData>();
  readonly #errors: ErrorRecord[] = [];
  /** Runs by id, in start order. */
  readonly #runs = new Map<string, RunRecord>();
  readonly #pageSize: number;
  readonly #maxErrors: number;

  constructor(options: MemoryHydrationStoreOptions = {}) {
    this.#pageSize = options.pageSize ?? 500;
    this.#maxErrors = options.maxErrorRecords ?? 1000;
  }

  async apply(batch: ApplyBatch): Promise<void> {
    this.applyNow(batch);
  }

  /** `apply`, synchronously (see `LiveTimelineStore.applyNow`). */
  applyNow(batch: ApplyBatch): void {
    const s = this.#session(batch.sessionId);
    if (batch.event) {
      s.events.push(batch.event);
      s.cursor = batch.ordinal;
    }
    s.timeline.apply(batch.ordinal, batch.entities);
    s.timelineCursor = batch.ordinal;
  }

  async snapshot(sessionId: string, options?: SnapshotOptions): Promise<Snapshot> {
    const s = this.#sessions.get(sessionId);
    if (!s) return { sessionId, snapshotOrdinal: 0n, entities: [], epoch: 1n };
    return { ...s.timeline.snapshot(options), snapshotOrdinal: s.cursor, epoch: s.epoch };
  }

  async view(sessionId: string): Promise<TimelineView> {
    return this.#session(sessionId).timeline.readonlyView();
  }

  /** The session's timeline itself (see `LiveTimelineStore`); like `view`, creates the session. */
  liveTimeline(sessionId: string): TimelineState {
    return this.#session(sessionId).timeline;
  }

  async cursor(sessionId: string): Promise<bigint> {
    return this.#sessions.get(sessionId)?.cursor ?? 0n;
  }

  async readEvents(sessionId: string, after: bigint, limit = this.#pageSize): Promise<StoredEvent[]> {
    const events = this.#sessions.get(sessionId)?.events ?? [];
    // Ordinals are dense from 1 in this store, so `after` is also an index.
    const start = Number(after < 0n ? 0n : after);
    return events.slice(start, start + limit);
  }

  async timelineCursor(sessionId: string): Promise<bigint> {
    return this.#sessions.get(sessionId)?.timelineCursor ?? 0n;
  }

  async resetTimeline(sessionId: string): Promise<void> {
    const s = this.#session(sessionId);
    s.timeline.clear();
    s.timelineCursor = 0n;
    s.epoch += 1n;
  }

  async replaceTimeline(sessionId: string, timeline: ReplacementTimeline): Promise<bigint> {
    const s = this.#session(sessionId);
    s.timeline.replaceWith(new TimelineState(sessionId, s.cursor, timeline.entities));
    s.timelineCursor = timeline.timelineCursor;
    return (s.epoch += 1n);
  }

  async timelineEpoch(sessionId: string): Promise<bigint> {
    return this.#sessions.get(sessionId)?.epoch ?? 1n;
  }

  async recordError(record: ErrorRecord): Promise<void> {
    this.#errors.push(record);
    if (this.#errors.length > this.#maxErrors) this.#errors.shift();
  }

  async listErrors(sessionId?: string, limit = 100): Promise<ErrorRecord[]> {
    const all = sessionId === undefined ? this.#errors : this.#errors.filter((e) => e.sessionId === sessionId);
    return all.slice(-limit);
  }

  /** Sessions something was written to (as the durable stores list them); reads create entries too, which are left out. */
  async listSessions(): Promise<Array<{ sessionId: string; cursor: bigint }>> {
    const written = [...this.#sessions].filter(([, s]) => s.cursor > 0n || s.timelineCursor > 0n || s.epoch > 1n);
    return written.map(([sessionId, s]) => ({ sessionId, cursor: s.cursor }));
  }

  async createRun(run: RunRecord): Promise<void> {
    this.#runs.set(run.runId, { ...run });
  }

  async endRun(runId: string, state: RunEndState, endedAt: number, error?: string): Promise<boolean> {
    const run = this.#runs.get(runId);
    if (!run || run.state !== "running") return false;
    this.#runs.set(runId, { ...run, state, endedAt, ...(error !== undefined ? { error } : {}) });
    return true;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#runs.get(runId);
  }

  async listRuns(sessionId: string): Promise<RunRecord[]> {
    return [...this.#runs.values()].filter((r) => r.sessionId === sessionId);
  }

  async listRunningRuns(): Promise<RunRecord[]> {
    return [...this.#runs.values()].filter((r) => r.state === "running");
  }

  async heartbeatRuns(owner: string, now: number): Promise<string[]> {
    const stops: string[] = [];
    for (const run of this.#runs.values()) {
      if (run.owner !== owner || run.state !== "running") continue;
      this.#runs.set(run.runId, { ...run, heartbeatAt: now });
      if (run.stopRequested) stops.push(run.runId);
    }
    return stops;
  }

  async requestRunStop(runId: string): Promise<boolean> {
    const run = this.#runs.get(runId);
    if (!run || run.state !== "running") return false;
    this.#runs.set(runId, { ...run, stopRequested: true });
    return true;
  }

  async close(): Promise<void> {}

  #session(sessionId: string): SessionData {
    let s = this.#sessions.get(sessionId);
    if (!s) {
      s = { cursor: 0n, timelineCursor: 0n, epoch: 1n, timeline: new TimelineState(sessionId), events: [] };
      this.#sessions.set(sessionId, s);
    }
    return s;
  }
}
