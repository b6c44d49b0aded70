import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import type { AppSchema } from "../../runtime/app-schema.js";
import { SessionstreamError } from "../../runtime/errors.js";
import type { SchemaRegistry } from "../../runtime/registry.js";
import { TimelineState, type Snapshot, type SnapshotOptions, type TimelineEntity, type TimelineView } from "../../runtime/timeline.js";
import type {
  ApplyBatch,
  ErrorRecord,
  ErrorRecordStore,
  EventLogStore,
  HydrationStore,
  ProjectionCursorStore,
  ReplacementTimeline,
  RunEndState,
  RunRecord,
  RunStore,
  SessionListStore,
  RegistryBoundStore,
  StoredEvent,
  TimelineCatchUpStore,
  TimelineReplaceStore,
  TimelineResetStore,
} from "../hydration-store.js";
import { startCheckpointer, type Checkpointer } from "./checkpointer.js";
import { REBUILD_AS_ROWID_SQL, SCHEMA_SQL, SCHEMA_VERSION } from "./schema.js";
import { PendingTimelines } from "./timeline-write-behind.js";
import { encodeApply, writeApply, WRITE_SQL, type EncodedApply, type WriteStatements } from "./write-apply.js";
import { startWriterThread, type WriterThread } from "./writer-thread.js";

/** Options of {@link SqliteHydrationStore}. */
export interface SqliteHydrationStoreOptions<S extends AppSchema = AppSchema> {
  /** Database file; parent folders are created. `":memory:"` for a private in-memory database. */
  readonly path: string;
  /**
   * Decodes stored payloads; must register every event and entity type the
   * store holds. Optional: a `Hub` built on this store binds its own registry.
   */
  readonly registry?: SchemaRegistry<S>;
  /**
   * SQLite `synchronous` pragma. Default `"normal"`: with WAL, an acknowledged
   * event survives a killed process; `"full"` also survives power loss.
   */
  readonly synchronous?: "normal" | "full";
  /** Default page size of `readEvents`. Default 500. */
  readonly pageSize?: number;
  /** Milliseconds to wait on a locked database. Default 5000. */
  readonly busyTimeoutMs?: number;
  /**
   * Group commit: events applied in the same turn of the event loop (by
   * different sessions), and with the writer thread also those applied
   * while its previous transaction ran, are written in one transaction of
   * at most this many events; each `apply` still resolves only after its
   * transaction committed. 1 writes one transaction per event. Default 256
   * (on the main thread, about 15 ms of synchronous work per transaction on
   * a small server).
   */
  readonly maxEventsPerTransaction?: number;
  /**
   * Which thread commits applies. `"main"`: the event loop's connection.
   * `"thread"`: a worker thread with its own connection, so the event loop
   * only encodes the rows; reads, timeline resets and runs stay on the
   * event loop's connection. On 2 vCPUs the thread costs more CPU per event
   * than it takes off the event loop (bench/results/README.md): try it
   * where a core is idle. Default `"main"`; `":memory:"` is always `"main"`,
   * and so is a store whose thread stopped.
   */
  readonly writer?: "thread" | "main";
  /**
   * Who checkpoints the WAL into the database file. `"background"`: a worker
   * thread with its own connection, every `checkpointIntervalMs`, so no
   * commit on the event loop pays for the copy (SQLite's automatic
   * checkpoint runs inside the commit that crosses 1000 pages). `"auto"`:
   * SQLite's automatic checkpoints. Default `"background"` for a file,
   * `"auto"` for `":memory:"` (or when the thread cannot start).
   */
  readonly checkpoint?: "background" | "auto";
  /** Milliseconds between background checkpoints. Default 200. */
  readonly checkpointIntervalMs?: number;
  /**
   * Timeline write-behind. Each event and the session cursor are committed
   * before `apply` resolves, as always; a session's changed entities are
   * written, the newest version of each with the timeline cursor, at most
   * once per this many milliseconds (a chat message rewritten on every
   * token is written a few times a second instead). Snapshots of this store
   * include the changes not yet written, and `close()` writes them. After a
   * killed process the file's timeline is behind its event log, and a hub
   * replays the events it lacks before it serves the session
   * (`TimelineCatchUpStore`). Another process reading the file sees a
   * timeline up to this long behind. 0 writes the entities with their event.
   * Default 100.
   */
  readonly timelineWriteDelayMs?: number;
}

/** An `apply` waiting for the next group commit. */
interface PendingApply {
  readonly encoded: EncodedApply;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

const now = (): number => performance.now();

interface EntityRow {
  kind: string;
  id: string;
  created_ordinal: bigint;
  last_event_ordinal: bigint;
  tombstone: bigint;
  type_name: string;
  payload: Uint8Array;
}

interface EventRow {
  ordinal: bigint;
  name: string;
  type_name: string;
  payload: Uint8Array;
  applied_at: bigint;
}

/**
 * The embedded persistent store on better-sqlite3 (WAL). Each event is one
 * transaction covering the event log row, entity upserts/tombstones, the
 * session cursor and the timeline projection cursor. Statements are prepared
 * once. Implements every optional store capability.
 */
export class SqliteHydrationStore
  implements
    HydrationStore,
    EventLogStore,
    ProjectionCursorStore,
    TimelineResetStore,
    TimelineReplaceStore,
    ErrorRecordStore,
    SessionListStore,
    RegistryBoundStore,
    RunStore,
    TimelineCatchUpStore
{
  /** The database file path. */
  readonly path: string;
  readonly #db: Database.Database;
  #registry: SchemaRegistry<AppSchema> | undefined;
  readonly #pageSize: number;
  readonly #stmt: ReturnType<typeof prepareStatements>;
  readonly #applyTx: (encoded: EncodedApply) => void;
  readonly #groupTx: (group: readonly PendingApply[]) => void;
  readonly #maxGroup: number;
  #pending: PendingApply[] = [];
  #flushScheduled = false;
  #checkpointer: Checkpointer | undefined;
  #writer: WriterThread | undefined;
  /** Settles after every write posted to the writer thread so far. */
  #written: Promise<unknown> = Promise.resolve();
  /** Entity changes of committed events not yet written (timeline write-behind); undefined when off. */
  readonly #timelines: PendingTimelines | undefined;
  #timelineTimer: NodeJS.Timeout | undefined;
  /** The last timeline write failed (reported once until one succeeds). */
  #timelineWriteFailing = false;
  readonly #snapshotTx: (sessionId: string, after: bigint) => { cursor: bigint; timelineCursor: bigint; epoch: bigint; rows: EntityRow[] };
  readonly #resetTx: Database.Transaction<(sessionId: string) => void>;
  readonly #replaceTx: Database.Transaction<(sessionId: string, timeline: ReplacementTimeline) => bigint>;

  constructor(options: SqliteHydrationStoreOptions<any>) {
    this.path = options.path;
    this.#registry = options.registry;
    this.#pageSize = options.pageSize ?? 500;
    if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
    try {
      this.#db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
      this.#db.pragma("foreign_keys = ON");
      this.#db.defaultSafeIntegers(true);
      this.#migrate();
      if (options.path !== ":memory:" && (options.checkpoint ?? "background") === "background") this.#startCheckpointer(options);
    } catch (err) {
      throw new SessionstreamError("store_failed", `cannot open SQLite store at ${options.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const stmt = (this.#stmt = prepareStatements(this.#db));

    this.#maxGroup = Math.max(1, options.maxEventsPerTransaction ?? 256);
    const delayMs = options.timelineWriteDelayMs ?? 100;
    this.#timelines = delayMs > 0 ? new PendingTimelines(delayMs) : undefined;
    this.#applyTx = this.#db.transaction((encoded: EncodedApply) => writeApply(stmt, encoded));
    this.#groupTx = this.#db.transaction((group: readonly PendingApply[]) => {
      for (const item of group) writeApply(stmt, item.encoded);
    });
    if (options.path !== ":memory:" && options.writer === "thread") this.#startWriter(options);
    this.#snapshotTx = this.#db.transaction((sessionId: string, after: bigint) => {
      const row = stmt.selectCursor.get(sessionId) as { cursor: bigint; timeline_cursor: bigint; epoch: bigint } | undefined;
      const rows = (after > 0n ? stmt.selectChangedEntities.all(sessionId, after) : stmt.selectLiveEntities.all(sessionId)) as EntityRow[];
      return { cursor: row?.cursor ?? 0n, timelineCursor: row?.timeline_cursor ?? 0n, epoch: row?.epoch ?? 1n, rows };
    });
    this.#resetTx = this.#db.transaction((sessionId: string) => {
      stmt.deleteEntities.run(sessionId);
      stmt.resetTimeline.run(sessionId);
    });
    // One transaction: a crash at any point leaves the old timeline or the new one.
    this.#replaceTx = this.#db.transaction((sessionId: string, timeline: ReplacementTimeline) => {
      stmt.deleteEntities.run(sessionId);
      writeApply(stmt, encodeApply({ sessionId, ordinal: timeline.timelineCursor, entities: timeline.entities }, this.#codec));
      return (stmt.bumpEpoch.get(sessionId) as { epoch: bigint }).epoch;
    });
  }

  /** Uses `registry` to encode and decode payloads (called by the hub when the store was built without one). */
  bindRegistry(registry: SchemaRegistry<any>): void {
    this.#registry ??= registry;
  }

  get #codec(): SchemaRegistry<AppSchema> {
    if (!this.#registry) {
      throw new SessionstreamError("invalid_argument", "SqliteHydrationStore has no registry: pass `registry` or use it through a Hub");
    }
    return this.#registry;
  }

  /** The underlying better-sqlite3 connection (an escape hatch for pragmas, backups and tests). */
  get database(): Database.Database {
    return this.#db;
  }

  /**
   * Writes one event (or a timeline-only change) with its entities and
   * cursors. Applies arriving in the same turn of the event loop share one
   * transaction (group commit, up to `maxEventsPerTransaction`); each
   * resolves once that transaction has committed.
   */
  apply(batch: ApplyBatch): Promise<void> {
    let encoded: EncodedApply;
    const timelines = this.#timelines;
    try {
      if (!this.#db.open) throw new TypeError("The database connection is not open");
      if (timelines && !batch.event) {
        // A timeline-only change (the hub catching a session up): kept with
        // the rest, the events it derives from are in the file already.
        timelines.merge(batch.sessionId, batch.ordinal, batch.entities, now());
        this.#armTimelineTimer();
        return Promise.resolve();
      }
      encoded = encodeApply(batch, this.#codec, timelines !== undefined);
    } catch (err) {
      return Promise.reject(err);
    }
    // With write-behind, the entities are kept once the event is committed.
    const committed = timelines ? () => this.#keepTimeline(batch) : undefined;
    if (this.#maxGroup === 1 && !this.#writer) {
      try {
        this.#applyTx(encoded);
      } catch (err) {
        return Promise.reject(err);
      }
      committed?.();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.#pending.push({ encoded, resolve: committed ? () => (committed(), resolve()) : resolve, reject });
      this.#scheduleFlush();
    });
  }

  #keepTimeline(batch: ApplyBatch): void {
    this.#timelines!.merge(batch.sessionId, batch.ordinal, batch.entities, now());
    this.#armTimelineTimer();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  /** Makes sure a flush runs when the next kept timeline falls due, even if no event comes. */
  #armTimelineTimer(): void {
    if (this.#timelineTimer || !this.#timelines || this.#timelines.size === 0 || !this.#db.open) return;
    const due = this.#timelines.nextDue();
    if (due === undefined) return;
    this.#timelineTimer = setTimeout(() => {
      this.#timelineTimer = undefined;
      this.#scheduleFlush();
    }, Math.max(0, due - now()));
    // Kept changes never hold the process open: they are in the event log.
    this.#timelineTimer.unref();
  }

  /**
   * The kept timelines that are due (all of them with `all`), at most `max`,
   * as applies without an event: each writes the entities and moves the
   * timeline cursor, and settles its {@link TimelineWrite}.
   */
  #timelineWrites(max: number, all = false): PendingApply[] {
    const timelines = this.#timelines;
    if (!timelines || timelines.size === 0 || max <= 0 || !this.#db.open) return [];
    const codec = this.#codec;
    const items: PendingApply[] = [];
    for (const write of timelines.take(now(), max, all)) {
      let encoded: EncodedApply;
      try {
        encoded = encodeApply({ sessionId: write.sessionId, ordinal: write.ordinal, entities: write.entities }, codec);
      } catch (err) {
        write.failed();
        this.#timelineWriteFailed(err);
        continue;
      }
      items.push({
        encoded,
        resolve: () => {
          write.written();
          this.#timelineWriteFailing = false;
        },
        reject: (err) => {
          write.failed();
          this.#timelineWriteFailed(err);
          this.#armTimelineTimer();
        },
      });
    }
    return items;
  }

  #timelineWriteFailed(err: unknown): void {
    if (this.#timelineWriteFailing) return;
    this.#timelineWriteFailing = true;
    console.error(
      `sessionstream: writing timeline entities to ${this.path} failed: ${(err as Error)?.message ?? String(err)}; ` +
        "they stay in memory (snapshots include them) and are written again; their events are committed, so a restart rebuilds them",
    );
  }

  /** Hands the waiting applies to the writer thread, or commits them here, a group per transaction. */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#pending.length === 0 && !this.#timelines?.size) return;
    if (this.#writer) {
      const group = this.#pending;
      this.#pending = [];
      for (const item of this.#timelineWrites(this.#maxGroup)) group.push(item);
      if (group.length === 0) return this.#armTimelineTimer();
      this.#written = this.#writer.write(group.map((item) => item.encoded)).then(
        (errors) => group.forEach((item, i) => (errors[i] ? item.reject(errors[i]) : item.resolve())),
        (err: unknown) => group.forEach((item) => item.reject(err)),
      );
      return this.#armTimelineTimer();
    }
    // On the event loop: at most maxGroup events (and as many due timelines) per transaction, yielding between them.
    const group = this.#pending.length <= this.#maxGroup ? this.#pending : this.#pending.slice(0, this.#maxGroup);
    this.#pending = group === this.#pending ? [] : this.#pending.slice(this.#maxGroup);
    if (this.#pending.length > 0) this.#scheduleFlush();
    for (const item of this.#timelineWrites(this.#maxGroup)) group.push(item);
    this.#armTimelineTimer();
    if (group.length === 0) return;
    try {
      if (group.length === 1) this.#applyTx(group[0]!.encoded);
      else this.#groupTx(group);
    } catch {
      // One bad write (a conflicting ordinal) must not fail the others: each
      // is retried in a transaction of its own and fails or lands alone.
      for (const item of group) {
        try {
          this.#applyTx(item.encoded);
        } catch (err) {
          item.reject(err);
          continue;
        }
        item.resolve();
      }
      return;
    }
    for (const item of group) item.resolve();
  }

  /**
   * Waits until every apply accepted so far is committed (or failed), so a
   * write on the event loop's connection lands after them, as it would have
   * with one connection.
   */
  async #afterApplies(): Promise<void> {
    if (!this.#writer) {
      while (this.#pending.length > 0) this.#flush();
      return;
    }
    if (this.#pending.length > 0) this.#flush();
    await this.#written;
  }

  async snapshot(sessionId: string, options?: SnapshotOptions): Promise<Snapshot> {
    const { cursor, timelineCursor, epoch, rows } = this.#snapshotTx(sessionId, options?.changedAfter ?? 0n);
    const entities = rows.map((r) => this.#entity(r));
    if (!this.#timelines) return { sessionId, snapshotOrdinal: cursor, entities, epoch };
    const kept = this.#timelines.overlay(sessionId, entities, options);
    if (kept) return { ...kept, epoch };
    // The file's timeline alone: as of its timeline cursor, which is behind
    // the event cursor after a crash (timelineBehind tells the hub).
    return { sessionId, snapshotOrdinal: timelineCursor, entities, epoch };
  }

  /** The event cursor when the timeline (file and kept changes) stops short of it (see {@link TimelineCatchUpStore}). */
  async timelineBehind(sessionId: string): Promise<bigint | undefined> {
    if (this.#timelines?.ordinal(sessionId) !== undefined) return undefined;
    const row = this.#stmt.selectCursor.get(sessionId) as { cursor: bigint; timeline_cursor: bigint } | undefined;
    return row && row.cursor > row.timeline_cursor ? row.cursor : undefined;
  }

  async view(sessionId: string): Promise<TimelineView> {
    const snap = await this.snapshot(sessionId);
    return new TimelineState(sessionId, snap.snapshotOrdinal, snap.entities).readonlyView();
  }

  async cursor(sessionId: string): Promise<bigint> {
    return (this.#stmt.selectCursor.get(sessionId) as { cursor: bigint } | undefined)?.cursor ?? 0n;
  }

  async readEvents(sessionId: string, after: bigint, limit = this.#pageSize): Promise<StoredEvent[]> {
    const rows = this.#stmt.selectEvents.all(sessionId, after, limit) as EventRow[];
    return rows.map((r) => ({
      sessionId,
      ordinal: r.ordinal,
      name: r.name,
      payload: this.#codec.decodeBinary(r.type_name, r.payload),
      appliedAt: Number(r.applied_at),
    }));
  }

  async timelineCursor(sessionId: string): Promise<bigint> {
    const kept = this.#timelines?.ordinal(sessionId);
    if (kept !== undefined) return kept;
    return (this.#stmt.selectCursor.get(sessionId) as { timeline_cursor: bigint } | undefined)?.timeline_cursor ?? 0n;
  }

  async resetTimeline(sessionId: string): Promise<void> {
    await this.#replacing(sessionId, () => this.#resetTx.immediate(sessionId));
  }

  async replaceTimeline(sessionId: string, timeline: ReplacementTimeline): Promise<bigint> {
    return this.#replacing(sessionId, () => this.#replaceTx.immediate(sessionId, timeline));
  }

  /**
   * Runs a timeline reset or replace after the applies before it; the
   * session's kept changes are held meanwhile (with the writer thread, a
   * write taken while we wait could land after the replacement) and dropped
   * once it committed.
   */
  async #replacing<T>(sessionId: string, write: () => T): Promise<T> {
    this.#timelines?.hold(sessionId);
    try {
      await this.#afterApplies();
      const result = write();
      this.#timelines?.drop(sessionId);
      return result;
    } finally {
      this.#timelines?.release(sessionId);
      this.#armTimelineTimer();
    }
  }

  async timelineEpoch(sessionId: string): Promise<bigint> {
    return (this.#stmt.selectCursor.get(sessionId) as { epoch: bigint } | undefined)?.epoch ?? 1n;
  }

  async recordError(record: ErrorRecord): Promise<void> {
    this.#stmt.insertError.run(
      record.sessionId,
      record.ordinal ?? null,
      record.eventName ?? null,
      record.kind,
      record.code,
      record.message,
      record.recordedAt,
    );
  }

  async listErrors(sessionId?: string, limit = 100): Promise<ErrorRecord[]> {
    const rows = (sessionId === undefined ? this.#stmt.selectAllErrors.all(limit) : this.#stmt.selectErrors.all(sessionId, limit)) as Array<{
      session_id: string;
      ordinal: bigint | null;
      event_name: string | null;
      kind: string;
      code: string;
      message: string;
      recorded_at: bigint;
    }>;
    return rows.reverse().map((r) => ({
      sessionId: r.session_id,
      ...(r.ordinal !== null ? { ordinal: r.ordinal } : {}),
      ...(r.event_name !== null ? { eventName: r.event_name } : {}),
      kind: r.kind,
      code: r.code,
      message: r.message,
      recordedAt: Number(r.recorded_at),
    }));
  }

  async listSessions(): Promise<Array<{ sessionId: string; cursor: bigint }>> {
    const rows = this.#stmt.selectSessions.all() as Array<{ session_id: string; cursor: bigint }>;
    return rows.map((r) => ({ sessionId: r.session_id, cursor: r.cursor }));
  }

  async createRun(run: RunRecord): Promise<void> {
    this.#stmt.insertRun.run(
      run.runId,
      run.sessionId,
      run.kind,
      run.owner,
      run.state,
      JSON.stringify(run.data),
      run.startedAt,
      run.heartbeatAt,
      run.stopRequested ? 1 : 0,
    );
  }

  async endRun(runId: string, state: RunEndState, endedAt: number, error?: string): Promise<boolean> {
    return this.#stmt.endRun.run(state, endedAt, error ?? null, runId).changes > 0;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const row = this.#stmt.selectRun.get(runId) as RunRow | undefined;
    return row && runFromRow(row);
  }

  async listRuns(sessionId: string): Promise<RunRecord[]> {
    return (this.#stmt.selectSessionRuns.all(sessionId) as RunRow[]).map(runFromRow);
  }

  async listRunningRuns(): Promise<RunRecord[]> {
    return (this.#stmt.selectRunningRuns.all() as RunRow[]).map(runFromRow);
  }

  async heartbeatRuns(owner: string, now: number): Promise<string[]> {
    const rows = this.#stmt.heartbeatRuns.all(now, owner) as Array<{ run_id: string; stop_requested: bigint }>;
    return rows.filter((r) => r.stop_requested !== 0n).map((r) => r.run_id);
  }

  async requestRunStop(runId: string): Promise<boolean> {
    return this.#stmt.requestRunStop.run(runId).changes > 0;
  }

  /**
   * Runs a pragma on every connection of the store (the writer thread's
   * first, after the writes before it) and returns the event loop
   * connection's result. For connection settings such as `max_page_count`,
   * which `database.pragma` would set on the event loop's connection only.
   */
  async pragma(source: string): Promise<unknown> {
    if (this.#writer) {
      if (this.#pending.length > 0) this.#flush();
      await this.#writer.pragma(source);
    }
    return this.#db.pragma(source);
  }

  /** Closes the database. Later calls reject with the driver's "database connection is not open". */
  async close(): Promise<void> {
    // Applies already accepted are committed (or rejected) before the file closes.
    while (this.#pending.length > 0) this.#flush();
    await this.#written.catch(() => {});
    // Then every kept timeline; one that fails to write is rebuilt from the events on the next open.
    if (this.#db.open) await this.#writeAllTimelines();
    // After the writes: a failed one re-arms the timer.
    clearTimeout(this.#timelineTimer);
    this.#timelineTimer = undefined;
    const writer = this.#writer;
    this.#writer = undefined;
    await this.#written.catch(() => {});
    await writer?.close();
    const checkpointer = this.#checkpointer;
    this.#checkpointer = undefined;
    await checkpointer?.stop();
    if (this.#db.open) this.#db.close();
  }

  /** Writes every kept timeline now, a transaction per `maxEventsPerTransaction` sessions. */
  async #writeAllTimelines(): Promise<void> {
    this.#timelineWriteFailing = false;
    // Stops at the first failure: what is left is rebuilt from the events on the next open.
    while (!this.#timelineWriteFailing) {
      const items = this.#timelineWrites(this.#maxGroup, true);
      if (items.length === 0) return;
      if (this.#writer) {
        this.#pending.push(...items);
        this.#flush();
        await this.#written.catch(() => {});
        continue;
      }
      try {
        this.#groupTx(items);
      } catch (err) {
        for (const item of items) item.reject(err);
        return;
      }
      for (const item of items) item.resolve();
    }
  }

  /** Moves the hot writes to a worker thread; keeps them on the event loop when the thread cannot start. */
  #startWriter(options: SqliteHydrationStoreOptions<any>): void {
    try {
      this.#writer = startWriterThread(
        {
          path: options.path,
          synchronous: options.synchronous === "full" ? "FULL" : "NORMAL",
          busyTimeoutMs: options.busyTimeoutMs ?? 5000,
          maxEventsPerTransaction: this.#maxGroup,
          autoCheckpoint: this.#checkpointer === undefined,
        },
        (err) => {
          // Later applies are written here; the ones in flight were rejected with err.
          console.error(`sessionstream: ${err.message}; writing on the main thread from now on`);
          this.#writer = undefined;
        },
      );
    } catch {
      return;
    }
  }

  /** Moves WAL checkpoints to a worker thread; keeps SQLite's own when the thread cannot start. */
  #startCheckpointer(options: SqliteHydrationStoreOptions<any>): void {
    try {
      this.#checkpointer = startCheckpointer(
        { path: options.path, intervalMs: options.checkpointIntervalMs ?? 200, busyTimeoutMs: options.busyTimeoutMs ?? 5000 },
        (message) => console.error(`sessionstream: background WAL checkpoint of ${options.path} failed: ${message}`),
      );
    } catch {
      return;
    }
    this.#db.pragma("wal_autocheckpoint = 0");
  }

  #entity(r: EntityRow): TimelineEntity {
    return {
      kind: r.kind,
      id: r.id,
      createdOrdinal: r.created_ordinal,
      lastEventOrdinal: r.last_event_ordinal,
      tombstone: r.tombstone !== 0n,
      payload: this.#codec.decodeBinary(r.type_name, r.payload),
    };
  }

  #migrate(): void {
    const version = Number(this.#db.pragma("user_version", { simple: true }));
    if (version > SCHEMA_VERSION) {
      throw new Error(`database schema version ${version} is newer than this sessionstream (${SCHEMA_VERSION}); upgrade sessionstream`);
    }
    if (version < SCHEMA_VERSION) {
      if (version > 0 && version < 3) {
        // Copies every event and entity: say so, a large file takes a while.
        console.error(`sessionstream: upgrading ${this.path} from schema ${version} to ${SCHEMA_VERSION} (events and entities move to rowid tables; once)`);
      }
      // One transaction: a crash leaves the old version, intact.
      this.#db.transaction(() => {
        this.#db.exec(version > 0 && version < 3 ? REBUILD_AS_ROWID_SQL : SCHEMA_SQL);
        this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
    }
  }
}

interface RunRow {
  run_id: string;
  session_id: string;
  kind: string;
  owner: string;
  state: string;
  data: string;
  started_at: bigint;
  heartbeat_at: bigint;
  ended_at: bigint | null;
  error: string | null;
  stop_requested: bigint;
}

function runFromRow(r: RunRow): RunRecord {
  return {
    runId: r.run_id,
    sessionId: r.session_id,
    kind: r.kind,
    owner: r.owner,
    state: r.state as RunRecord["state"],
    data: JSON.parse(r.data) as Record<string, unknown>,
    startedAt: Number(r.started_at),
    heartbeatAt: Number(r.heartbeat_at),
    ...(r.ended_at !== null ? { endedAt: Number(r.ended_at) } : {}),
    ...(r.error !== null ? { error: r.error } : {}),
    stopRequested: r.stop_requested !== 0n,
  };
}

const RUN_COLUMNS = "run_id, session_id, kind, owner, state, data, started_at, heartbeat_at, ended_at, error, stop_requested";

function prepareStatements(db: Database.Database) {
  return {
    insertRun: db.prepare(
      `INSERT INTO ss_runs (run_id, session_id, kind, owner, state, data, started_at, heartbeat_at, stop_requested, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM ss_runs))`,
    ),
    endRun: db.prepare("UPDATE ss_runs SET state = ?, ended_at = ?, error = ? WHERE run_id = ? AND state = 'running'"),
    selectRun: db.prepare(`SELECT ${RUN_COLUMNS} FROM ss_runs WHERE run_id = ?`),
    selectSessionRuns: db.prepare(`SELECT ${RUN_COLUMNS} FROM ss_runs WHERE session_id = ? ORDER BY seq`),
    selectRunningRuns: db.prepare(`SELECT ${RUN_COLUMNS} FROM ss_runs WHERE state = 'running' ORDER BY seq`),
    heartbeatRuns: db.prepare("UPDATE ss_runs SET heartbeat_at = ? WHERE owner = ? AND state = 'running' RETURNING run_id, stop_requested"),
    requestRunStop: db.prepare("UPDATE ss_runs SET stop_requested = 1 WHERE run_id = ? AND state = 'running'"),
    ...(Object.fromEntries(Object.entries(WRITE_SQL).map(([name, sql]) => [name, db.prepare(sql)])) as unknown as WriteStatements),
    selectCursor: db.prepare("SELECT cursor, timeline_cursor, epoch FROM ss_sessions WHERE session_id = ?"),
    selectLiveEntities: db.prepare(
      `SELECT kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload FROM ss_entities
       WHERE session_id = ? AND tombstone = 0 ORDER BY created_ordinal, kind, id`,
    ),
    selectChangedEntities: db.prepare(
      `SELECT kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload FROM ss_entities
       WHERE session_id = ? AND last_event_ordinal > ? ORDER BY created_ordinal, kind, id`,
    ),
    selectEvents: db.prepare(
      "SELECT ordinal, name, type_name, payload, applied_at FROM ss_events WHERE session_id = ? AND ordinal > ? ORDER BY ordinal LIMIT ?",
    ),
    deleteEntities: db.prepare("DELETE FROM ss_entities WHERE session_id = ?"),
    resetTimeline: db.prepare("UPDATE ss_sessions SET timeline_cursor = 0, epoch = epoch + 1 WHERE session_id = ?"),
    bumpEpoch: db.prepare("UPDATE ss_sessions SET epoch = epoch + 1 WHERE session_id = ? RETURNING epoch"),
    insertError: db.prepare(
      "INSERT INTO ss_errors (session_id, ordinal, event_name, kind, code, message, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    selectErrors: db.prepare(
      "SELECT session_id, ordinal, event_name, kind, code, message, recorded_at FROM ss_errors WHERE session_id = ? ORDER BY id DESC LIMIT ?",
    ),
    selectAllErrors: db.prepare(
      "SELECT session_id, ordinal, event_name, kind, code, message, recorded_at FROM ss_errors ORDER BY id DESC LIMIT ?",
    ),
    selectSessions: db.prepare("SELECT session_id, cursor FROM ss_sessions ORDER BY session_id"),
  };
}
