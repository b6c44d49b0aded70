import pg from "pg";
import type { AppSchema } from "../../runtime/app-schema.js";
import { SessionstreamError } from "../../runtime/errors.js";
import type { SchemaRegistry } from "../../runtime/registry.js";
import { TimelineState, type Snapshot, type SnapshotOptions, type TimelineEntity, type TimelineView } from "../../runtime/timeline.js";
import type {
  ApplyBatch,
  ErrorRecord,
  ErrorRecordStore,
  EventIdStore,
  EventLogStore,
  EventLookup,
  HydrationStore,
  ProjectionCursorStore,
  RegistryBoundStore,
  ReplacementTimeline,
  RunEndState,
  RunRecord,
  RunStore,
  SessionListStore,
  StoredEvent,
  TimelineReplaceStore,
  TimelineResetStore,
} from "../hydration-store.js";
import { migrate, quoteIdent, type MigrationResult } from "./migrate.js";
import { describeTarget, isConnectionError, storeError, unreachableAtStart } from "./pg-errors.js";
import { buildStatements, type Statement } from "./statements.js";

/** Options of {@link PostgresHydrationStore}. */
export interface PostgresHydrationStoreOptions<S extends AppSchema = AppSchema> {
  /**
   * `postgres://user:password@host:port/database` (or the keyword/value form).
   * Ignored when `pool` is given. Without both, `pg` reads PGHOST, PGPORT,
   * PGUSER, PGPASSWORD and PGDATABASE.
   */
  readonly connectionString?: string;
  /**
   * A `pg.Pool` you own (its size, TLS and timeouts are yours). The store
   * never ends it: `close()` only ends a pool the store created.
   */
  readonly pool?: pg.Pool;
  /**
   * Decodes stored payloads; must register every event and entity type the
   * store holds. Optional: a `Hub` built on this store binds its own registry.
   */
  readonly registry?: SchemaRegistry<S>;
  /** Connections in the pool the store creates (`pg`'s `max`). Default 10. */
  readonly poolSize?: number;
  /** PostgreSQL schema holding the tables; created if missing. Default `"public"`. */
  readonly schema?: string;
  /** Default page size of `readEvents`. Default 500. */
  readonly pageSize?: number;
  /** Milliseconds to wait for a new connection before failing with `store_unavailable`. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Milliseconds a query may take before it fails (client side, `pg`'s `query_timeout`). Default 30000. */
  readonly queryTimeoutMs?: number;
  /** `application_name` of the store's connections (shown in `pg_stat_activity`). Default `"sessionstream"`. */
  readonly applicationName?: string;
  /**
   * Group commit: events applied while the store's group statements are in
   * flight (of different sessions) are written together, up to this many
   * per statement; each `apply` still resolves only after its statement
   * committed. 1 writes one statement per event. Default 256.
   */
  readonly maxEventsPerStatement?: number;
  /** Group statements in flight at once; more waiting events join the next one. Default half of `poolSize`, at least 1. */
  readonly maxConcurrentGroups?: number;
}

/** An apply waiting for its group statement. */
interface PendingApply {
  readonly batch: ApplyBatch & { readonly event: StoredEvent };
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

interface EntityRow {
  kind: string;
  id: string;
  created_ordinal: string;
  last_event_ordinal: string;
  tombstone: boolean;
  type_name: string;
  payload: Uint8Array;
}

/** Rows of a batched entity upsert, one array per column (for `unnest`). */
type EntityColumns = [string[], string[], bigint[], bigint[], boolean[], string[], Uint8Array[]];

/** Entities per statement when a rebuild writes a whole timeline. */
const REPLACE_CHUNK = 1000;

/**
 * The multi-node hydration store on PostgreSQL (`pg`). Implements every
 * optional store capability, with the SQLite store's semantics:
 *
 * - `apply` is one statement, hence one transaction: the event log row, the
 *   entity upserts/tombstones, the session cursor and the timeline cursor.
 *   Events of other sessions applied meanwhile share it (group commit, up
 *   to `maxEventsPerStatement`, `maxConcurrentGroups` statements in flight).
 *   It is idempotent per (session, ordinal): a redelivered event that is
 *   already in the log changes nothing and resolves; a *different* event at
 *   a taken ordinal rejects (two writers assigned one ordinal), alone.
 * - `replaceTimeline` swaps a session's timeline and bumps its epoch in one
 *   transaction, and refuses if the session's cursor moved past the rebuild.
 * - Snapshots read the cursor, epoch and entities in one statement, so they
 *   are always mutually consistent.
 *
 * The connection and the schema migrations happen on first use; `await
 * ready()` to fail fast at start. Failures reject with `SessionstreamError`:
 * `store_unavailable` when PostgreSQL cannot be reached (the message names
 * the URL, password redacted), `store_failed` otherwise, the driver error as
 * the cause. The store recovers by itself when the server is back.
 */
export class PostgresHydrationStore
  implements
    HydrationStore,
    EventLogStore,
    ProjectionCursorStore,
    TimelineResetStore,
    TimelineReplaceStore,
    ErrorRecordStore,
    SessionListStore,
    RegistryBoundStore,
    EventIdStore,
    RunStore
{
  /** The PostgreSQL schema holding the tables. */
  readonly schema: string;
  /** Where the store connects, password redacted (for logs and messages). */
  readonly target: string;
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  #registry: SchemaRegistry<AppSchema> | undefined;
  readonly #pageSize: number;
  readonly #sql: Record<Statement, string>;
  readonly #names: Record<Statement, string>;
  #ready: Promise<MigrationResult> | undefined;
  #isReady = false;
  #closed = false;
  readonly #maxGroup: number;
  readonly #maxGroups: number;
  #pending: PendingApply[] = [];
  #flushScheduled = false;
  /** Group statements in flight. */
  readonly #groups = new Set<Promise<void>>();

  constructor(options: PostgresHydrationStoreOptions<any>) {
    this.schema = options.schema ?? "public";
    if (this.schema.length === 0 || Buffer.byteLength(this.schema) > 63) {
      throw new SessionstreamError("invalid_argument", `PostgreSQL schema name must be 1 to 63 bytes, got "${this.schema}"`);
    }
    const poolSize = options.poolSize ?? 10;
    if (!Number.isInteger(poolSize) || poolSize < 1) {
      throw new SessionstreamError("invalid_argument", `poolSize must be a positive integer, got ${poolSize}`);
    }
    this.#registry = options.registry;
    this.#pageSize = options.pageSize ?? 500;
    this.#maxGroup = Math.max(1, options.maxEventsPerStatement ?? 256);
    this.#maxGroups = Math.max(1, options.maxConcurrentGroups ?? Math.floor(poolSize / 2));
    if (options.pool) {
      this.#pool = options.pool;
      this.#ownsPool = false;
      this.target = describeTarget(options.pool.options);
    } else {
      this.#pool = new pg.Pool({
        ...(options.connectionString !== undefined ? { connectionString: options.connectionString } : {}),
        max: poolSize,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
        query_timeout: options.queryTimeoutMs ?? 30_000,
        application_name: options.applicationName ?? "sessionstream",
      });
      this.#ownsPool = true;
      this.target = describeTarget(this.#pool.options);
      // An idle connection that dies (server restart, pg_terminate_backend) is
      // dropped by the pool; without a listener the 'error' event would crash
      // the process. The next query opens a fresh connection.
      this.#pool.on("error", () => {});
    }
    const quoted = quoteIdent(this.schema);
    this.#sql = buildStatements(quoted);
    // Prepared statement names are per connection; the schema is part of the
    // text, so it is part of the name (a shared pool may serve two schemas).
    const tag = hashString(this.schema);
    this.#names = Object.fromEntries(Object.keys(this.#sql).map((k) => [k, `ss_${tag}_${k}`])) as Record<Statement, string>;
  }

  /** The `pg` pool (an escape hatch for tests and tooling). */
  get pool(): pg.Pool {
    return this.#pool;
  }

  /**
   * Connects and brings the schema up to date (idempotent; safe when several
   * processes start at once). Every other method waits for it; call it at
   * start to fail fast. Rejects with `store_unavailable` naming the URL and
   * the fix when PostgreSQL cannot be reached; a later call tries again.
   */
  ready(): Promise<MigrationResult> {
    if (this.#closed) return Promise.reject(this.#closedError());
    this.#ready ??= this.#open().then(
      (result) => {
        this.#isReady = true;
        return result;
      },
      (err: unknown) => {
        this.#ready = undefined;
        throw err;
      },
    );
    return this.#ready;
  }

  async #open(): Promise<MigrationResult> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      if (isConnectionError(err)) throw unreachableAtStart(err, this.target);
      throw new SessionstreamError("store_failed", `cannot open the PostgreSQL store at ${this.target}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return await migrate(client, this.schema);
    } catch (err) {
      if (err instanceof SessionstreamError) throw err;
      throw storeError(err, `migration of schema "${this.schema}"`, this.target);
    } finally {
      client.release();
    }
  }

  /** Uses `registry` to encode and decode payloads (called by the hub when the store was built without one). */
  bindRegistry(registry: SchemaRegistry<any>): void {
    this.#registry ??= registry;
  }

  get #codec(): SchemaRegistry<AppSchema> {
    if (!this.#registry) {
      throw new SessionstreamError("invalid_argument", "PostgresHydrationStore has no registry: pass `registry` or use it through a Hub");
    }
    return this.#registry;
  }

  /**
   * Writes one event with its entities and cursors. Events applied while
   * earlier group statements are in flight share a statement (group
   * commit, up to `maxEventsPerStatement`); each resolves once its
   * statement committed. A timeline-only apply (rebuild) is written alone.
   */
  async apply(batch: ApplyBatch): Promise<void> {
    const { sessionId, ordinal, event } = batch;
    if (!event) {
      await this.#query("replayApply", "apply", [sessionId, ordinal, ...this.#entityColumns(batch.entities)]);
      return;
    }
    if (this.#maxGroup === 1) return this.#applyOne({ ...batch, event });
    if (this.#closed) throw this.#closedError();
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ batch: { ...batch, event }, resolve, reject });
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** Sends waiting applies as group statements while fewer than `maxConcurrentGroups` are in flight. */
  #flush(): void {
    while (this.#pending.length > 0 && this.#groups.size < this.#maxGroups) {
      const group = this.#pending.splice(0, this.#maxGroup);
      const sent: Promise<void> = this.#applyGroup(group).finally(() => {
        this.#groups.delete(sent);
        if (this.#pending.length > 0) this.#scheduleFlush();
      });
      this.#groups.add(sent);
    }
  }

  /** Writes a group in one statement; settles every apply of it, never rejects. */
  async #applyGroup(group: PendingApply[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group as [PendingApply];
      await this.#applyOne(only.batch).then(only.resolve, only.reject);
      return;
    }
    let inserted: Set<string>;
    try {
      const res = await this.#query<{ session_id: string; ordinal: string }>("applyGroup", "apply", this.#groupValues(group));
      inserted = new Set(res.rows.map((r) => `${r.session_id}\u0000${r.ordinal}`));
    } catch (err) {
      // An unreachable server fails them all alike; anything else (a
      // deadlock with another node taking over a partition, a bad row) is
      // retried event by event, so that only a bad one fails.
      if (err instanceof SessionstreamError && err.code === "store_unavailable") {
        for (const item of group) item.reject(err);
        return;
      }
      await Promise.all(group.map((item) => this.#applyOne(item.batch).then(item.resolve, item.reject)));
      return;
    }
    await Promise.all(
      group.map((item) => {
        const { sessionId, ordinal } = item.batch;
        // Not inserted: the ordinal or the event id was taken (a redelivery, or a conflict).
        if (inserted.has(`${sessionId}\u0000${ordinal}`)) return item.resolve();
        return this.#checkTaken(item.batch).then(item.resolve, item.reject);
      }),
    );
  }

  #groupValues(group: readonly PendingApply[]): unknown[] {
    const ev: [string[], bigint[], string[], string[], Uint8Array[], number[], Array<string | null>] = [[], [], [], [], [], [], []];
    const en: [string[], ...EntityColumns, number[]] = [[], [], [], [], [], [], [], [], []];
    group.forEach(({ batch }, i) => {
      const { sessionId, ordinal, event } = batch;
      ev[0].push(sessionId);
      ev[1].push(ordinal);
      ev[2].push(event.name);
      ev[3].push(event.payload.$typeName);
      ev[4].push(this.#codec.encodeBinary(event.payload));
      ev[5].push(event.appliedAt);
      ev[6].push(event.eventId ?? null);
      const cols = this.#entityColumns(batch.entities);
      for (let k = 0; k < cols[0].length; k++) {
        en[0].push(sessionId);
        for (let c = 0; c < 7; c++) (en[c + 1] as unknown[]).push(cols[c]![k]);
        // WITH ORDINALITY counts from 1.
        en[8].push(i + 1);
      }
    });
    return [...ev, ...en];
  }

  async #applyOne(batch: ApplyBatch & { readonly event: StoredEvent }): Promise<void> {
    const { sessionId, ordinal, event } = batch;
    const columns = this.#entityColumns(batch.entities);
    const payload = this.#codec.encodeBinary(event.payload);
    const res = await this.#query<{ inserted: number }>("apply", "apply", [
      sessionId,
      ordinal,
      event.name,
      event.payload.$typeName,
      payload,
      event.appliedAt,
      ...columns,
      event.eventId ?? null,
    ]);
    if (res.rows[0]!.inserted > 0) return;
    await this.#checkTaken(batch);
  }

  /**
   * The event's ordinal (or its event id) is taken: a redelivery of the same
   * event is a no-op and resolves, anything else is a conflict and rejects.
   */
  async #checkTaken(batch: ApplyBatch & { readonly event: StoredEvent }): Promise<void> {
    const { sessionId, ordinal, event } = batch;
    const typeName = event.payload.$typeName;
    const existing = await this.#query<{ name: string; type_name: string; payload: Uint8Array; event_id: string | null }>("selectEvent", "apply", [
      sessionId,
      ordinal,
    ]);
    const row = existing.rows[0];
    const eventId = event.eventId ?? null;
    if (row && row.event_id === eventId && row.name === event.name && row.type_name === typeName && Buffer.from(this.#codec.encodeBinary(event.payload)).equals(row.payload)) return;
    if (eventId !== null && row?.event_id !== eventId) {
      const { ordinal: taken } = await this.lookupEvent(sessionId, eventId);
      if (taken !== undefined) {
        throw new SessionstreamError("store_failed", `session "${sessionId}" already has event id "${eventId}" at ordinal ${taken}, not ${ordinal}`);
      }
    }
    throw new SessionstreamError(
      "store_failed",
      `session "${sessionId}" already has a different event at ordinal ${ordinal} ("${row?.name}", not "${event.name}"): two writers assigned the same ordinal`,
    );
  }

  /** Waits until every apply accepted so far has settled, so a timeline write lands after them. */
  async #afterApplies(): Promise<void> {
    while (this.#pending.length > 0 || this.#groups.size > 0) {
      this.#flush();
      await Promise.all(this.#groups);
    }
  }

  async snapshot(sessionId: string, options?: SnapshotOptions): Promise<Snapshot> {
    const after = options?.changedAfter ?? 0n;
    const res =
      after > 0n
        ? await this.#query<EntityRow & { cursor: string | null; epoch: string | null }>("deltaSnapshot", "snapshot", [sessionId, after])
        : await this.#query<EntityRow & { cursor: string | null; epoch: string | null }>("fullSnapshot", "snapshot", [sessionId]);
    const first = res.rows[0];
    const entities: TimelineEntity[] = [];
    for (const r of res.rows) if (r.kind !== null) entities.push(this.#entity(r));
    return {
      sessionId,
      snapshotOrdinal: BigInt(first?.cursor ?? 0),
      entities,
      epoch: BigInt(first?.epoch ?? 1),
    };
  }

  async view(sessionId: string): Promise<TimelineView> {
    const snap = await this.snapshot(sessionId);
    return new TimelineState(sessionId, snap.snapshotOrdinal, snap.entities).readonlyView();
  }

  async cursor(sessionId: string): Promise<bigint> {
    const res = await this.#query<{ cursor: string }>("selectCursor", "cursor read", [sessionId]);
    return BigInt(res.rows[0]?.cursor ?? 0);
  }

  async lookupEvent(sessionId: string, eventId: string): Promise<EventLookup> {
    const res = await this.#query<{ cursor: string | null; ordinal: string | null }>("lookupEvent", "event id lookup", [sessionId, eventId]);
    const row = res.rows[0];
    return { cursor: BigInt(row?.cursor ?? 0), ordinal: row?.ordinal == null ? undefined : BigInt(row.ordinal) };
  }

  async readEvents(sessionId: string, after: bigint, limit = this.#pageSize): Promise<StoredEvent[]> {
    const res = await this.#query<{ ordinal: string; name: string; type_name: string; payload: Uint8Array; applied_at: string; event_id: string | null }>(
      "selectEvents",
      "event log read",
      [sessionId, after, limit],
    );
    return res.rows.map((r) => ({
      sessionId,
      ordinal: BigInt(r.ordinal),
      name: r.name,
      payload: this.#codec.decodeBinary(r.type_name, r.payload),
      appliedAt: Number(r.applied_at),
      ...(r.event_id !== null ? { eventId: r.event_id } : {}),
    }));
  }

  async timelineCursor(sessionId: string): Promise<bigint> {
    const res = await this.#query<{ timeline_cursor: string }>("selectCursor", "cursor read", [sessionId]);
    return BigInt(res.rows[0]?.timeline_cursor ?? 0);
  }

  async timelineEpoch(sessionId: string): Promise<bigint> {
    const res = await this.#query<{ epoch: string }>("selectCursor", "cursor read", [sessionId]);
    return BigInt(res.rows[0]?.epoch ?? 1);
  }

  async resetTimeline(sessionId: string): Promise<void> {
    await this.#afterApplies();
    await this.#query("resetTimeline", "timeline reset", [sessionId]);
  }

  async replaceTimeline(sessionId: string, timeline: ReplacementTimeline): Promise<bigint> {
    await this.#afterApplies();
    return this.#transaction("timeline replace", async (client) => {
      const locked = await client.query<{ cursor: string }>({ name: this.#names.lockSession, text: this.#sql.lockSession, values: [sessionId] });
      const cursor = BigInt(locked.rows[0]?.cursor ?? 0);
      if (cursor > timeline.timelineCursor) {
        throw new SessionstreamError(
          "store_failed",
          `session "${sessionId}" advanced to ordinal ${cursor} while its timeline was rebuilt up to ${timeline.timelineCursor}; rebuild again`,
        );
      }
      await client.query({ name: this.#names.deleteEntities, text: this.#sql.deleteEntities, values: [sessionId] });
      for (let i = 0; i < timeline.entities.length; i += REPLACE_CHUNK) {
        const columns = this.#entityColumns(timeline.entities.slice(i, i + REPLACE_CHUNK));
        await client.query({ name: this.#names.insertEntities, text: this.#sql.insertEntities, values: [sessionId, ...columns] });
      }
      const res = await client.query<{ epoch: string }>({
        name: this.#names.bumpEpoch,
        text: this.#sql.bumpEpoch,
        values: [sessionId, timeline.timelineCursor],
      });
      return BigInt(res.rows[0]!.epoch);
    });
  }

  async recordError(record: ErrorRecord): Promise<void> {
    await this.#query("insertError", "error record write", [
      record.sessionId,
      record.ordinal ?? null,
      record.eventName ?? null,
      record.kind,
      record.code,
      record.message,
      record.recordedAt,
    ]);
  }

  async listErrors(sessionId?: string, limit = 100): Promise<ErrorRecord[]> {
    type Row = { session_id: string; ordinal: string | null; event_name: string | null; kind: string; code: string; message: string; recorded_at: string };
    const res =
      sessionId === undefined
        ? await this.#query<Row>("selectAllErrors", "error records read", [limit])
        : await this.#query<Row>("selectErrors", "error records read", [sessionId, limit]);
    return res.rows.reverse().map((r) => ({
      sessionId: r.session_id,
      ...(r.ordinal !== null ? { ordinal: BigInt(r.ordinal) } : {}),
      ...(r.event_name !== null ? { eventName: r.event_name } : {}),
      kind: r.kind,
      code: r.code,
      message: r.message,
      recordedAt: Number(r.recorded_at),
    }));
  }

  async listSessions(): Promise<Array<{ sessionId: string; cursor: bigint }>> {
    const res = await this.#query<{ session_id: string; cursor: string }>("selectSessions", "session list read", []);
    return res.rows.map((r) => ({ sessionId: r.session_id, cursor: BigInt(r.cursor) }));
  }

  async createRun(run: RunRecord): Promise<void> {
    await this.#query("insertRun", "run write", [
      run.runId,
      run.sessionId,
      run.kind,
      run.owner,
      run.state,
      JSON.stringify(run.data),
      run.startedAt,
      run.heartbeatAt,
      run.stopRequested,
    ]);
  }

  async endRun(runId: string, state: RunEndState, endedAt: number, error?: string): Promise<boolean> {
    return ((await this.#query("endRun", "run write", [runId, state, endedAt, error ?? null])).rowCount ?? 0) > 0;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const row = (await this.#query<RunRow>("selectRun", "run read", [runId])).rows[0];
    return row && runFromRow(row);
  }

  async listRuns(sessionId: string): Promise<RunRecord[]> {
    return (await this.#query<RunRow>("selectSessionRuns", "run read", [sessionId])).rows.map(runFromRow);
  }

  async listRunningRuns(): Promise<RunRecord[]> {
    return (await this.#query<RunRow>("selectRunningRuns", "run read", [])).rows.map(runFromRow);
  }

  async heartbeatRuns(owner: string, now: number): Promise<string[]> {
    const res = await this.#query<{ run_id: string; stop_requested: boolean }>("heartbeatRuns", "run heartbeat", [owner, now]);
    return res.rows.filter((r) => r.stop_requested).map((r) => r.run_id);
  }

  async requestRunStop(runId: string): Promise<boolean> {
    return ((await this.#query("requestRunStop", "run write", [runId])).rowCount ?? 0) > 0;
  }

  /** Ends the pool the store created (a pool passed in stays open). Later calls reject with `store_failed`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    // Applies already accepted are written (or rejected) first.
    await this.#afterApplies();
    this.#closed = true;
    await this.#ready?.catch(() => {});
    if (this.#ownsPool) await this.#pool.end();
  }

  async #query<R extends pg.QueryResultRow = pg.QueryResultRow>(statement: Statement, what: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    if (!this.#isReady) await this.ready();
    if (this.#closed) throw this.#closedError();
    try {
      return await this.#pool.query<R>({ name: this.#names[statement], text: this.#sql[statement], values });
    } catch (err) {
      throw storeError(err, what, this.target);
    }
  }

  async #transaction<T>(what: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (!this.#isReady) await this.ready();
    if (this.#closed) throw this.#closedError();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw storeError(err, what, this.target);
    }
    let broken: unknown;
    try {
      await client.query("BEGIN");
      const result = await body(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      if (isConnectionError(err)) broken = err;
      else await client.query("ROLLBACK").catch((e: unknown) => (broken = e));
      throw storeError(err, what, this.target);
    } finally {
      // A connection that failed mid-transaction is destroyed, not reused.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  #closedError(): SessionstreamError {
    return new SessionstreamError("store_failed", `the PostgreSQL store (${this.target}, schema "${this.schema}") is closed`);
  }

  /** Column arrays for an `unnest` upsert; the last write of an entity within one batch wins. */
  #entityColumns(entities: readonly TimelineEntity[]): EntityColumns {
    let list = entities;
    if (entities.length > 1) {
      const byKey = new Map<string, TimelineEntity>();
      for (const e of entities) {
        const key = `${e.kind}\u0000${e.id}`;
        byKey.delete(key);
        byKey.set(key, e);
      }
      if (byKey.size !== entities.length) list = [...byKey.values()];
    }
    const cols: EntityColumns = [[], [], [], [], [], [], []];
    for (const e of list) {
      cols[0].push(e.kind);
      cols[1].push(e.id);
      cols[2].push(e.createdOrdinal);
      cols[3].push(e.lastEventOrdinal);
      cols[4].push(e.tombstone);
      cols[5].push(e.payload.$typeName);
      cols[6].push(this.#codec.encodeBinary(e.payload));
    }
    return cols;
  }

  #entity(r: EntityRow): TimelineEntity {
    return {
      kind: r.kind,
      id: r.id,
      createdOrdinal: BigInt(r.created_ordinal),
      lastEventOrdinal: BigInt(r.last_event_ordinal),
      tombstone: r.tombstone,
      payload: this.#codec.decodeBinary(r.type_name, r.payload),
    };
  }
}

interface RunRow {
  run_id: string;
  session_id: string;
  kind: string;
  owner: string;
  state: string;
  data: Record<string, unknown>;
  started_at: string;
  heartbeat_at: string;
  ended_at: string | null;
  error: string | null;
  stop_requested: boolean;
}

function runFromRow(r: RunRow): RunRecord {
  return {
    runId: r.run_id,
    sessionId: r.session_id,
    kind: r.kind,
    owner: r.owner,
    state: r.state as RunRecord["state"],
    data: r.data,
    startedAt: Number(r.started_at),
    heartbeatAt: Number(r.heartbeat_at),
    ...(r.ended_at !== null ? { endedAt: Number(r.ended_at) } : {}),
    ...(r.error !== null ? { error: r.error } : {}),
    stopRequested: r.stop_requested,
  };
}

/** A short stable hex tag of a string (FNV-1a), for prepared statement names. */
function hashString(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}
