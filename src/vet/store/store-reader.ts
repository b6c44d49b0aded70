// Read-only access to a sessionstream store's tables for `schema-vet
// --store`: SQLite opened with `readonly`, PostgreSQL in read-only
// transactions. Payloads stay raw bytes: checking them is the point.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { SessionstreamError } from "../../runtime/errors.js";
import { parseStoreSpec, redactUrl } from "../../server/backends.js";

/** Which table a row comes from. */
export type StoreFamily = "event" | "entity";

/** Rows sharing a logical name (event name or entity kind) and a stored type name. */
export interface StoredGroup {
  readonly family: StoreFamily;
  /** Event name or entity kind. */
  readonly name: string;
  readonly typeName: string;
  readonly rows: number;
}

/** One stored payload. */
export interface StoredRow {
  readonly sessionId: string;
  /** The event's ordinal; for entities, the last event that touched it. */
  readonly ordinal: bigint;
  /** Event name or entity kind. */
  readonly name: string;
  /** Entity id (entities only). */
  readonly id?: string;
  readonly createdOrdinal?: bigint;
  readonly tombstone?: boolean;
  readonly typeName: string;
  readonly payload: Uint8Array;
}

/** A store opened read-only. */
export interface StoreReader {
  /** How findings name the store: the SQLite file (absolute) or the PostgreSQL URL (password redacted). */
  readonly location: string;
  /** Rows per (family, name, type name), sorted. */
  groups(): Promise<StoredGroup[]>;
  /** Rows of one group in (session, ordinal/id) order; at most `limit` when given. */
  rows(group: StoredGroup, limit?: number): AsyncIterable<StoredRow>;
  /** Every session id, sorted. */
  sessions(): Promise<string[]>;
  /** A session's events in ordinal order. */
  sessionEvents(sessionId: string): Promise<StoredRow[]>;
  /** A session's entities (tombstones included). */
  sessionEntities(sessionId: string): Promise<StoredRow[]>;
  close(): Promise<void>;
}

const PAGE = 1000;

/**
 * Opens `--store <value>` read-only: a `postgres://` URL (optional
 * `?schema=`), or a SQLite file (`path` or `sqlite:path`, relative to `cwd`).
 * Throws a `SessionstreamError` naming the problem and the fix.
 */
export async function openStoreReader(value: string, cwd: string): Promise<StoreReader> {
  if (/^postgres(ql)?:\/\//i.test(value.trim())) {
    const spec = parseStoreSpec(value, cwd, ".sessionstream/app.sqlite");
    if (spec.kind !== "postgres") throw new SessionstreamError("invalid_argument", `--store ${value}: not a PostgreSQL URL`);
    return openPostgres(spec.url, spec.schema ?? "public");
  }
  if (value === "memory") {
    throw new SessionstreamError("invalid_argument", "--store memory: an in-memory store keeps nothing to check; pass the SQLite file or the postgres:// URL the app runs on");
  }
  const path = resolve(cwd, value.startsWith("sqlite:") ? value.slice("sqlite:".length) : value);
  if (!existsSync(path)) {
    throw new SessionstreamError("invalid_argument", `--store ${value}: no such SQLite file ${path} (dev keeps it at .sessionstream/app.sqlite; for PostgreSQL pass a postgres:// URL)`);
  }
  return openSqlite(path);
}

async function openSqlite(path: string): Promise<StoreReader> {
  const { default: Database } = await import("better-sqlite3");
  let db: import("better-sqlite3").Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('ss_events', 'ss_entities')").all() as Array<{ name: string }>;
    if (tables.length < 2) {
      db.close();
      throw new SessionstreamError("invalid_argument", `--store ${path}: not a sessionstream SQLite store (no ss_events/ss_entities tables)`);
    }
  } catch (err) {
    if (err instanceof SessionstreamError) throw err;
    throw new SessionstreamError("invalid_argument", `--store ${path}: cannot open it read-only: ${(err as Error).message}`, { cause: err });
  }
  db.defaultSafeIntegers(true);
  const toRow = (r: Record<string, unknown>, family: StoreFamily): StoredRow => ({
    sessionId: r["session_id"] as string,
    ordinal: BigInt(r[family === "event" ? "ordinal" : "last_event_ordinal"] as bigint),
    name: r[family === "event" ? "name" : "kind"] as string,
    typeName: r["type_name"] as string,
    payload: r["payload"] as Uint8Array,
    ...(family === "entity" ? { id: r["id"] as string, createdOrdinal: BigInt(r["created_ordinal"] as bigint), tombstone: Number(r["tombstone"]) !== 0 } : {}),
  });
  return {
    location: path,
    async groups() {
      const ev = db.prepare("SELECT name, type_name, count(*) AS n FROM ss_events GROUP BY name, type_name ORDER BY name, type_name").all() as Array<Record<string, unknown>>;
      const en = db.prepare("SELECT kind AS name, type_name, count(*) AS n FROM ss_entities GROUP BY kind, type_name ORDER BY kind, type_name").all() as Array<Record<string, unknown>>;
      const g = (family: StoreFamily) => (r: Record<string, unknown>): StoredGroup => ({ family, name: r["name"] as string, typeName: r["type_name"] as string, rows: Number(r["n"]) });
      return [...ev.map(g("event")), ...en.map(g("entity"))];
    },
    async *rows(group, limit) {
      const sql =
        group.family === "event"
          ? "SELECT session_id, ordinal, name, type_name, payload FROM ss_events WHERE name = ? AND type_name = ? ORDER BY session_id, ordinal"
          : "SELECT session_id, kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload FROM ss_entities WHERE kind = ? AND type_name = ? ORDER BY session_id, id";
      const stmt = db.prepare(limit === undefined ? sql : `${sql} LIMIT ${Math.floor(limit)}`);
      for (const r of stmt.iterate(group.name, group.typeName) as Iterable<Record<string, unknown>>) yield toRow(r, group.family);
    },
    async sessions() {
      const rows = db.prepare("SELECT session_id FROM ss_events UNION SELECT session_id FROM ss_entities ORDER BY 1").all() as Array<{ session_id: string }>;
      return rows.map((r) => r.session_id);
    },
    async sessionEvents(sessionId) {
      const rows = db.prepare("SELECT session_id, ordinal, name, type_name, payload FROM ss_events WHERE session_id = ? ORDER BY ordinal").all(sessionId) as Array<Record<string, unknown>>;
      return rows.map((r) => toRow(r, "event"));
    },
    async sessionEntities(sessionId) {
      const rows = db
        .prepare("SELECT session_id, kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload FROM ss_entities WHERE session_id = ? ORDER BY kind, id")
        .all(sessionId) as Array<Record<string, unknown>>;
      return rows.map((r) => toRow(r, "entity"));
    },
    async close() {
      db.close();
    },
  };
}

async function openPostgres(url: string, schema: string): Promise<StoreReader> {
  const { default: pg } = await import("pg");
  const location = `${redactUrl(url)}${schema !== "public" ? ` (schema ${schema})` : ""}`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: "sessionstream schema-vet" });
  client.on("error", () => {});
  try {
    await client.connect();
    // Every statement of this connection runs in a read-only transaction: the check can never write.
    await client.query("SET default_transaction_read_only = on");
    const found = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('ss_events', 'ss_entities')",
      [schema],
    );
    if (Number(found.rows[0]?.n) < 2) {
      throw new SessionstreamError("invalid_argument", `--store ${location}: no sessionstream tables in schema "${schema}" (name the schema with ?schema=<name>)`);
    }
  } catch (err) {
    await client.end().catch(() => {});
    if (err instanceof SessionstreamError) throw err;
    throw new SessionstreamError("store_unavailable", `--store ${location}: cannot connect: ${(err as Error).message} (is PostgreSQL running, and are the URL and credentials right?)`, { cause: err });
  }
  const s = `"${schema.replace(/"/g, '""')}"`;
  type Raw = Record<string, unknown>;
  const toRow = (r: Raw, family: StoreFamily): StoredRow => ({
    sessionId: r["session_id"] as string,
    ordinal: BigInt(r[family === "event" ? "ordinal" : "last_event_ordinal"] as string),
    name: r[family === "event" ? "name" : "kind"] as string,
    typeName: r["type_name"] as string,
    payload: new Uint8Array(r["payload"] as Buffer),
    ...(family === "entity" ? { id: r["id"] as string, createdOrdinal: BigInt(r["created_ordinal"] as string), tombstone: r["tombstone"] === true } : {}),
  });
  const EVENT_COLS = "session_id, ordinal, name, type_name, payload";
  const ENTITY_COLS = "session_id, kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload";
  return {
    location,
    async groups() {
      const ev = await client.query<Raw>(`SELECT name, type_name, count(*) AS n FROM ${s}.ss_events GROUP BY name, type_name ORDER BY name COLLATE "C", type_name COLLATE "C"`);
      const en = await client.query<Raw>(`SELECT kind AS name, type_name, count(*) AS n FROM ${s}.ss_entities GROUP BY kind, type_name ORDER BY kind COLLATE "C", type_name COLLATE "C"`);
      const g = (family: StoreFamily) => (r: Raw): StoredGroup => ({ family, name: r["name"] as string, typeName: r["type_name"] as string, rows: Number(r["n"]) });
      return [...ev.rows.map(g("event")), ...en.rows.map(g("entity"))];
    },
    async *rows(group, limit) {
      // Keyset pages, so --all streams a large table without holding it.
      let after: [string, string] | undefined;
      let left = limit ?? Number.POSITIVE_INFINITY;
      const key = group.family === "event" ? "ordinal" : "id";
      for (;;) {
        const n = Math.min(PAGE, left);
        if (n <= 0) return;
        const table = group.family === "event" ? "ss_events" : "ss_entities";
        const cols = group.family === "event" ? EVENT_COLS : ENTITY_COLS;
        const nameCol = group.family === "event" ? "name" : "kind";
        const page = await client.query<Raw>(
          `SELECT ${cols} FROM ${s}.${table} WHERE ${nameCol} = $1 AND type_name = $2
           ${after ? `AND (session_id, ${key}) > ($4, $5${key === "ordinal" ? "::bigint" : ""})` : ""}
           ORDER BY session_id, ${key} LIMIT $3`,
          after ? [group.name, group.typeName, n, after[0], after[1]] : [group.name, group.typeName, n],
        );
        for (const r of page.rows) yield toRow(r, group.family);
        if (page.rows.length < n) return;
        const last = page.rows[page.rows.length - 1]!;
        after = [last["session_id"] as string, String(last[key])];
        left -= page.rows.length;
      }
    },
    async sessions() {
      const res = await client.query<{ session_id: string }>(`SELECT session_id FROM ${s}.ss_events UNION SELECT session_id FROM ${s}.ss_entities ORDER BY 1`);
      return res.rows.map((r) => r.session_id);
    },
    async sessionEvents(sessionId) {
      const res = await client.query<Raw>(`SELECT ${EVENT_COLS} FROM ${s}.ss_events WHERE session_id = $1 ORDER BY ordinal`, [sessionId]);
      return res.rows.map((r) => toRow(r, "event"));
    },
    async sessionEntities(sessionId) {
      const res = await client.query<Raw>(`SELECT ${ENTITY_COLS} FROM ${s}.ss_entities WHERE session_id = $1 ORDER BY kind, id`, [sessionId]);
      return res.rows.map((r) => toRow(r, "entity"));
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}
