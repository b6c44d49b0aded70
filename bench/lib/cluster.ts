// The systems the cluster scenario compares: N hubs ("nodes") on one Redis
// (createRedisEventBus) and one PostgreSQL schema (PostgresHydrationStore),
// the single-node SQLite hub, and raw `pg` writing the same rows. Every
// system records, in its fanout, publish -> fanout latency of the token
// deltas (the chunk carries the publish time, process.hrtime.bigint()).
import { join } from "node:path";
import { create, toBinary, type DescMessage } from "@bufbuild/protobuf";
import pg from "pg";
import { TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import type { Hub } from "../../src/index.js";
import type { RedisEventBus } from "../../src/bus/redis/index.js";
import { bareApply, bareSession, type PersistFn } from "./bare-loop.js";
import { benchRegistry, chatEvents, registerBenchProjections, type BenchEvent, type BenchSchema } from "./chat-bench.js";
import { core, postgres, redisBus, sqlite } from "./pkg.js";
import { removeDir, tempDir } from "./tmp.js";

/** Lease timings short enough that three nodes share the partitions within a second or two. */
const BUS_TIMINGS = { leaseMs: 3000, renewEveryMs: 300, readBlockMs: 500 } as const;
/** Partitions of the bus (its default). */
const PARTITIONS = 16;

/** Latencies (ms) recorded by the fanouts of every node; systems run one at a time, each reading it after its run. */
export class LatencyLog {
  values: number[] = [];
  record(chunk: string | undefined): void {
    if (chunk && chunk.startsWith("t")) this.values.push(Number(process.hrtime.bigint() - BigInt(chunk.slice(1))) / 1e6);
  }
  take(): number[] {
    const v = this.values;
    this.values = [];
    return v;
  }
}

/** Something that publishes one event of a session and resolves when it is committed. */
export interface System {
  publish(sessionIndex: number, sessionId: string, ev: BenchEvent): Promise<unknown>;
  /** Latency samples each token delta yields (one per node's fanout). */
  readonly fanouts: number;
  close(): Promise<void>;
}

/** The event to publish: token deltas carry `t<publish hrtime>` as their chunk. */
export function stamped(ev: BenchEvent): BenchEvent {
  if (ev.name !== "ChatTokensDelta") return ev;
  return { name: ev.name, payload: create(TokensDeltaEventSchema, { messageId: ev.payload.messageId, chunk: `t${process.hrtime.bigint()}` }) as BenchEvent["payload"] };
}

function attachLatency(hub: Hub<BenchSchema>, log: LatencyLog): void {
  hub.attachFanout({
    publishUI(_s, _o, ui) {
      for (const u of ui) if (u.name === "ChatMessageAppended") log.record((u.payload as unknown as { chunk?: string }).chunk);
    },
  });
}

/**
 * `nodes` hubs, each with its own bus (own Redis connections) and its own
 * store (own pool) on the same schema and key prefix. Session i is published
 * through node i % nodes, the way clients spread over nodes behind a load
 * balancer; the partition's owner applies it, every node fans it out.
 */
export async function startRedisPgSystem(options: { nodes: number; pgUrl: string; redisUrl: string; schema: string; prefix: string; log: LatencyLog }): Promise<System> {
  const hubs: Array<{ hub: Hub<BenchSchema>; bus: RedisEventBus; store: InstanceType<typeof postgres.PostgresHydrationStore> }> = [];
  for (let i = 0; i < options.nodes; i++) {
    const registry = benchRegistry();
    const store = new postgres.PostgresHydrationStore({ connectionString: options.pgUrl, schema: options.schema, registry, poolSize: 10 });
    const bus = redisBus.createRedisEventBus({ url: options.redisUrl, prefix: options.prefix, partitions: PARTITIONS, ...BUS_TIMINGS, onError: () => {} });
    const hub = new core.Hub<BenchSchema>({ registry, store, bus, onError: () => {} });
    registerBenchProjections(hub);
    attachLatency(hub, options.log);
    hubs.push({ hub, bus, store });
  }
  await Promise.all(hubs.map((h) => h.bus.ready()));
  await settle(hubs.map((h) => h.bus));
  const pubs = new Map<string, ReturnType<Hub<BenchSchema>["publisher"]>>();
  return {
    fanouts: options.nodes,
    publish(i, sessionId, ev) {
      let pub = pubs.get(sessionId);
      if (!pub) pubs.set(sessionId, (pub = hubs[i % hubs.length]!.hub.publisher(sessionId)));
      return pub.publish(ev.name, ev.payload as never);
    },
    async close() {
      for (const h of hubs) {
        await h.hub.close().catch(() => {});
        await h.store.close();
      }
    },
  };
}

/** Waits until every partition has exactly one owner and every node owns some. */
async function settle(buses: RedisEventBus[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const owned = buses.map((b) => b.ownedPartitions());
    const all = owned.flat();
    if (new Set(all).size === all.length && all.length > 0 && owned.every((o) => o.length > 0) && all.length === PARTITIONS) return;
    if (Date.now() > deadline) throw new Error(`partitions not shared after 20 s: ${JSON.stringify(owned)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The single-node hub on SQLite (file, WAL, synchronous=NORMAL), no bus. */
export function startSqliteSystem(log: LatencyLog): System {
  const dir = tempDir("cluster-sqlite");
  const registry = benchRegistry();
  const store = new sqlite.SqliteHydrationStore({ path: join(dir, "hub.sqlite") });
  const hub = new core.Hub<BenchSchema>({ registry, store });
  registerBenchProjections(hub);
  attachLatency(hub, log);
  const pubs = new Map<string, ReturnType<Hub<BenchSchema>["publisher"]>>();
  return {
    fanouts: 1,
    publish(_i, sessionId, ev) {
      let pub = pubs.get(sessionId);
      if (!pub) pubs.set(sessionId, (pub = hub.publisher(sessionId)));
      return pub.publish(ev.name, ev.payload as never);
    },
    async close() {
      await hub.close();
      await store.close();
      removeDir(dir);
    },
  };
}

/**
 * Raw `pg`: the bare projection loop plus, per event, one statement writing
 * the rows the store writes (event, session cursor, entity upsert; protobuf
 * binary payloads) on a pool of the store's size: the floor under the store.
 * Its "latency" is the statement's round trip (publish -> committed).
 */
export async function startRawPgSystem(options: { pgUrl: string; schema: string; log: LatencyLog }): Promise<System> {
  // The store creates the tables (same schema as ours), then steps aside.
  const registry = benchRegistry();
  const migrator = new postgres.PostgresHydrationStore({ connectionString: options.pgUrl, schema: options.schema, registry, poolSize: 1 });
  await migrator.ready();
  await migrator.close();
  const pool = new pg.Pool({ connectionString: options.pgUrl, max: 10 });
  const s = `"${options.schema}"`;
  const sql = `WITH ev AS (
      INSERT INTO ${s}.ss_events (session_id, ordinal, name, type_name, payload, applied_at) VALUES ($1, $2, $3, $4, $5, $6)
    ), ses AS (
      INSERT INTO ${s}.ss_sessions (session_id, cursor, timeline_cursor) VALUES ($1, $2, $2)
      ON CONFLICT (session_id) DO UPDATE SET cursor = excluded.cursor, timeline_cursor = excluded.timeline_cursor
    )
    INSERT INTO ${s}.ss_entities (session_id, kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload)
    VALUES ($1, $7, $8, $9, $10, $11, $12, $13)
    ON CONFLICT (session_id, kind, id) DO UPDATE SET created_ordinal = excluded.created_ordinal,
      last_event_ordinal = excluded.last_event_ordinal, tombstone = excluded.tombstone,
      type_name = excluded.type_name, payload = excluded.payload`;
  const schemaOf = (typeName: string): DescMessage => registry.typeRegistry.getMessage(typeName)!;
  const bin = (m: { $typeName: string }) => toBinary(schemaOf(m.$typeName), m as never);
  const states = new Map<string, ReturnType<typeof bareSession>>();
  let pending: Promise<unknown> = Promise.resolve();
  const persist: PersistFn = (st, ordinal, ev, appliedAt, entities) => {
    const e = entities[0]!; // the chat projection writes exactly one entity per event
    pending = pool.query({
      name: "bench-apply",
      text: sql,
      values: [st.sessionId, ordinal.toString(), ev.name, ev.payload.$typeName, bin(ev.payload), appliedAt, e.kind, e.id, e.createdOrdinal.toString(), e.lastEventOrdinal.toString(), e.tombstone, e.payload.$typeName, bin(e.payload)],
    });
  };
  return {
    fanouts: 1,
    async publish(_i, sessionId, ev) {
      let st = states.get(sessionId);
      if (!st) states.set(sessionId, (st = bareSession(sessionId)));
      const t0 = process.hrtime.bigint();
      bareApply(st, ev, () => {}, persist);
      await pending;
      if (ev.name === "ChatTokensDelta") options.log.values.push(Number(process.hrtime.bigint() - t0) / 1e6);
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * Publishes `perSession` events in each session, each session awaiting its
 * previous event, all sessions at once (closed loop: one event in flight per
 * session). Returns events/s (first publish -> last publish resolved) and
 * the latencies, once every fanout has seen every token delta.
 */
export async function drive(system: System, log: LatencyLog, sessionIds: readonly string[], perSession: number): Promise<{ rate: number; latencies: number[] }> {
  const events = chatEvents(perSession);
  const deltas = events.filter((e) => e.name === "ChatTokensDelta").length * sessionIds.length * system.fanouts;
  log.take();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    sessionIds.map(async (id, i) => {
      for (const ev of events) await system.publish(i, id, stamped(ev));
    }),
  );
  const rate = (sessionIds.length * perSession) / (Number(process.hrtime.bigint() - t0) / 1e9);
  const deadline = Date.now() + 30_000;
  while (log.values.length < deltas && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (log.values.length < deltas) throw new Error(`fanouts saw ${log.values.length} of ${deltas} token deltas within 30 s`);
  return { rate, latencies: log.take() };
}
