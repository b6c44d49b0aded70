// Scenario 2: hub throughput with the SQLite store, against raw
// better-sqlite3 doing the same rows with the same transaction boundaries.
import { join } from "node:path";
import { toBinary, type DescMessage } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import { core, sqlite, sqliteSchema } from "../lib/pkg.js";
import { bareApply, bareSession, type PersistFn } from "../lib/bare-loop.js";
import { benchRegistry, chatEvents, registerBenchProjections, sessionIds, type BenchSchema } from "../lib/chat-bench.js";
import { interleave, timeMs } from "../lib/measure.js";
import { makeRow } from "../lib/row.js";
import { removeDir, tempDir } from "../lib/tmp.js";
import type { Row, Scenario } from "../lib/types.js";

export const scenario: Scenario = {
  name: "hub-sqlite",
  title: "Hub throughput, SQLite store",
  description:
    "ours: hub.publish with SqliteHydrationStore (file, WAL, synchronous=NORMAL; events of sessions published in one turn share a transaction), " +
    "writing every entity with its event (timelineWriteDelayMs: 0, the same rows as the baseline); a second row measures the default, " +
    "timeline write-behind (entities written at most every 100 ms per session: fewer rows than the baseline writes). " +
    "baseline: the same projection functions and Map updates, plus raw better-sqlite3 prepared statements writing the same rows " +
    "(event insert, session cursor upsert, entity upsert, protobuf binary payloads) in one transaction per event, same schema and pragmas; " +
    "and the same with the events of one round (all sessions publishing together) in one transaction of at most 256, as the store groups them.",
  async run(ctx) {
    // Full mode adds 300k events (100 sessions x 3000): writes slow down as the database grows, which 20k events on a fresh file hide.
    const sizes: Array<{ sessions: number; total: number }> = ctx.quick
      ? [1, 100, 1000].map((sessions) => ({ sessions, total: 2_000 }))
      : [...[1, 100, 1000].map((sessions) => ({ sessions, total: 20_000 })), { sessions: 100, total: 300_000 }];
    const rows: Row[] = [];
    const registry = benchRegistry();
    for (const { sessions, total } of sizes) {
      const perSession = Math.max(10, Math.floor(total / sessions));
      const events = chatEvents(perSession);
      const ids = sessionIds(sessions);
      const count = perSession * sessions;
      const ours = (timelineWriteDelayMs: number | undefined) => async () => {
          const dir = tempDir("hub-sqlite");
          const store = new sqlite.SqliteHydrationStore({ path: join(dir, "ours.sqlite"), ...(timelineWriteDelayMs === undefined ? {} : { timelineWriteDelayMs }) });
          const hub = new core.Hub<BenchSchema>({ registry, store });
          registerBenchProjections(hub);
          const pubs = ids.map((id) => hub.publisher(id));
          const ms = await timeMs(async () => {
            if (pubs.length === 1) {
              const pub = pubs[0]!;
              for (const ev of events) await pub.publish(ev.name, ev.payload as never);
            } else {
              for (const ev of events) await Promise.all(pubs.map((pub) => pub.publish(ev.name, ev.payload as never)));
            }
          });
          // Untimed, as the baseline's close: with write-behind it writes the last 100 ms of entities.
          await hub.close();
          await store.close();
          removeDir(dir);
          return (count / ms) * 1000;
        };
      const stats = await interleave(ctx, `${sessions} sessions x ${perSession} events`, {
        ours: ours(0),
        writeBehind: ours(undefined),
        raw: async () => {
          const dir = tempDir("raw-sqlite");
          const db = openRaw(join(dir, "raw.sqlite"));
          const persist = rawPersist(db, (typeName) => registry.typeRegistry.getMessage(typeName)!);
          const states = ids.map(bareSession);
          const sink = () => {};
          const ms = await timeMs(() => {
            for (const ev of events) for (const s of states) bareApply(s, ev, sink, persist);
          });
          db.close();
          removeDir(dir);
          return (count / ms) * 1000;
        },
        // What an expert writes for sessions publishing together: the events of one round in
        // one transaction, at most 256 (the store's maxEventsPerTransaction), as the store groups them.
        rawGrouped: async () => {
          const dir = tempDir("raw-sqlite");
          const db = openRaw(join(dir, "raw.sqlite"));
          const persist = rawPersist(db, (typeName) => registry.typeRegistry.getMessage(typeName)!, false);
          const states = ids.map(bareSession);
          const sink = () => {};
          const group = db.transaction((ev: (typeof events)[number], from: number, to: number) => {
            for (let i = from; i < to; i++) bareApply(states[i]!, ev, sink, persist);
          });
          const ms = await timeMs(() => {
            for (const ev of events) for (let from = 0; from < states.length; from += 256) group(ev, from, Math.min(states.length, from + 256));
          });
          db.close();
          removeDir(dir);
          return (count / ms) * 1000;
        },
      });
      // The target is on the baseline with the store's transaction boundaries (a group per round).
      const row = (size: string, ours: typeof stats.ours, baselineName: string, baseline: typeof stats.ours, target?: boolean) =>
        makeRow({
          scenario: "hub-sqlite",
          size: `${sessions} sess x ${perSession} ev${size}`,
          metric: "throughput",
          unit: "events/s",
          higherIsBetter: true,
          ours,
          baselineName,
          baseline,
          ...(target ? { target: { of: "ratio", op: ">=", value: 0.7 } as const } : {}),
        });
      rows.push(
        row("", stats.ours, "raw, a tx per round", stats.rawGrouped, true),
        row("", stats.ours, "raw, a tx per event", stats.raw),
        row(", write-behind (default)", stats.writeBehind, "raw, a tx per round", stats.rawGrouped),
      );
    }
    return rows;
  },
};

function openRaw(path: string): Database.Database {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.defaultSafeIntegers(true);
  db.exec(sqliteSchema.SCHEMA_SQL);
  return db;
}

/** The same three statements the store runs, in one transaction per event. */
function rawPersist(db: Database.Database, schemaOf: (typeName: string) => DescMessage, ownTransaction = true): PersistFn {
  const insertEvent = db.prepare("INSERT INTO ss_events (session_id, ordinal, name, type_name, payload, applied_at) VALUES (?, ?, ?, ?, ?, ?)");
  const upsertCursor = db.prepare(
    `INSERT INTO ss_sessions (session_id, cursor, timeline_cursor) VALUES (?, ?, ?)
     ON CONFLICT (session_id) DO UPDATE SET cursor = excluded.cursor, timeline_cursor = excluded.timeline_cursor`,
  );
  const upsertEntity = db.prepare(
    `INSERT INTO ss_entities (session_id, kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (session_id, kind, id) DO UPDATE SET created_ordinal = excluded.created_ordinal,
       last_event_ordinal = excluded.last_event_ordinal, tombstone = excluded.tombstone,
       type_name = excluded.type_name, payload = excluded.payload`,
  );
  const write = (s: { sessionId: string }, ordinal: bigint, name: string, payload: { $typeName: string }, appliedAt: number, entities: ReadonlyArray<{ kind: string; id: string; createdOrdinal: bigint; lastEventOrdinal: bigint; tombstone: boolean; payload: { $typeName: string } }>) => {
    insertEvent.run(s.sessionId, ordinal, name, payload.$typeName, toBinary(schemaOf(payload.$typeName), payload as never), appliedAt);
    upsertCursor.run(s.sessionId, ordinal, ordinal);
    for (const e of entities) {
      upsertEntity.run(s.sessionId, e.kind, e.id, e.createdOrdinal, e.lastEventOrdinal, e.tombstone ? 1 : 0, e.payload.$typeName, toBinary(schemaOf(e.payload.$typeName), e.payload as never));
    }
  };
  const tx = ownTransaction ? db.transaction(write) : write;
  return (s, ordinal, ev, appliedAt, entities) => tx(s, ordinal, ev.name, ev.payload, appliedAt, entities);
}
