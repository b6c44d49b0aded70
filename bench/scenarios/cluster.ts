// Scenario: several nodes on Redis + PostgreSQL (issue 12). Events/s and
// publish -> fanout latency p50/p99 of 1 node and of 3 nodes
// (createRedisEventBus + PostgresHydrationStore, one bus and one pool per
// node), side by side in one run with the single-node SQLite hub and with raw
// `pg` writing the same rows (the store's limit), at two session counts.
//
// The nodes share this process and its cores: 3 nodes here measure what the
// coordination costs (Redis hop, ownership, every node fanning out every
// event), not the capacity added by 3 machines. Skipped with a printed reason
// when PostgreSQL or Redis does not answer (SESSIONSTREAM_TEST_PG /
// SESSIONSTREAM_TEST_REDIS, as the tests).
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../../test/helpers/postgres.js";
import { dropPrefixes, freshPrefix, REDIS_URL, redisUnavailable } from "../../test/helpers/redis.js";
import { drive, LatencyLog, startRawPgSystem, startRedisPgSystem, startSqliteSystem, type System } from "../lib/cluster.js";
import { collectGarbage } from "../lib/measure.js";
import { makeRow } from "../lib/row.js";
import { percentileSorted, summarize, type Stat } from "../lib/stats.js";
import type { Row, Scenario } from "../lib/types.js";

const VARIANTS = ["n1", "n3", "sqlite", "rawpg"] as const;
type VariantName = (typeof VARIANTS)[number];
const LABEL: Record<VariantName, string> = { n1: "1 node redis+pg", n3: "3 nodes redis+pg", sqlite: "sqlite hub", rawpg: "raw pg" };

export const scenario: Scenario = {
  name: "cluster",
  title: "Several nodes on Redis + PostgreSQL",
  description:
    "ours: 1 and 3 hubs in this process, each with its own createRedisEventBus (16 partitions) and PostgresHydrationStore (pool 10) on one schema and key prefix; " +
    "session i is published through node i % N, its partition owner applies it, every node fans it out. " +
    "baselines: the single-node hub on SQLite (WAL, synchronous=NORMAL), and raw pg (pool 10) running one statement per event that writes the store's rows. " +
    "Closed loop: every session publishes its events one after another, all sessions at once; events/s = events / (first publish -> last resolved); " +
    "latency = publish -> UI event in a node's fanout (every node's fanout for 3 nodes), token deltas only; raw pg latency is the statement round trip.",
  async run(ctx) {
    const reason = (await redisUnavailable()) ?? (await postgresUnavailable());
    if (reason) {
      ctx.log(`  skipped: ${reason}`);
      return [];
    }
    const total = ctx.quick ? 200 : 5_000;
    const sizes = [10, 100];
    const rows: Row[] = [];
    const schemas = new Set<string>();
    const prefixes = new Set<string>();
    const fresh = () => {
      const schema = freshSchema();
      const prefix = freshPrefix();
      schemas.add(schema);
      prefixes.add(prefix);
      return { schema, prefix };
    };
    try {
      for (const sessions of sizes) {
        const perSession = Math.max(ctx.quick ? 10 : 20, Math.floor(total / sessions));
        const log = new LatencyLog();
        const started: Partial<Record<VariantName, System>> = {};
        const samples = Object.fromEntries(VARIANTS.map((v) => [v, { rate: [] as number[], p50: [] as number[], p99: [] as number[] }])) as Record<
          VariantName,
          { rate: number[]; p50: number[]; p99: number[] }
        >;
        try {
          // Started one by one, so that a failure closes the ones already running.
          started.n1 = await startRedisPgSystem({ nodes: 1, pgUrl: PG_URL, redisUrl: REDIS_URL, log, ...fresh() });
          started.n3 = await startRedisPgSystem({ nodes: 3, pgUrl: PG_URL, redisUrl: REDIS_URL, log, ...fresh() });
          started.sqlite = startSqliteSystem(log);
          started.rawpg = await startRawPgSystem({ pgUrl: PG_URL, schema: fresh().schema, log });
          const systems = started as Record<VariantName, System>;
          for (let round = 0; round < ctx.warmup + ctx.reps; round++) {
            // Fresh sessions every round: each repetition starts from empty sessions.
            const ids = Array.from({ length: sessions }, (_, i) => `r${round}-s${i}`);
            for (const v of VARIANTS) {
              collectGarbage();
              const r = await drive(systems[v], log, ids, perSession);
              if (round < ctx.warmup) continue;
              const sorted = Float64Array.from(r.latencies).sort();
              samples[v].rate.push(r.rate);
              samples[v].p50.push(percentileSorted(sorted, 50));
              samples[v].p99.push(percentileSorted(sorted, 99));
            }
          }
        } finally {
          for (const v of VARIANTS) await started[v]?.close();
        }
        const s = (v: VariantName, m: "rate" | "p50" | "p99"): Stat => summarize(samples[v][m]);
        ctx.log(
          `  ${sessions} sessions x ${perSession} events: ` +
            VARIANTS.map((v) => `${v} ${s(v, "rate").median.toFixed(0)} ev/s p50 ${s(v, "p50").median.toFixed(2)} p99 ${s(v, "p99").median.toFixed(2)} ms`).join(" | "),
        );
        const size = `${sessions} sess x ${perSession} ev`;
        const row = (metric: string, m: "rate" | "p50" | "p99", ours: VariantName, base: VariantName) =>
          makeRow({
            scenario: "cluster",
            size,
            metric,
            unit: m === "rate" ? "events/s" : "ms",
            higherIsBetter: m === "rate",
            ours: s(ours, m),
            baselineName: LABEL[base],
            baseline: s(base, m),
          });
        rows.push(
          row("events/s 1 node", "rate", "n1", "rawpg"),
          row("events/s 3 nodes", "rate", "n3", "rawpg"),
          row("events/s 3 nodes", "rate", "n3", "n1"),
          row("events/s 1 node", "rate", "n1", "sqlite"),
          row("p50 1 node", "p50", "n1", "sqlite"),
          row("p99 1 node", "p99", "n1", "sqlite"),
          row("p50 3 nodes", "p50", "n3", "n1"),
          row("p99 3 nodes", "p99", "n3", "n1"),
          row("p50 1 node", "p50", "n1", "rawpg"),
        );
      }
    } finally {
      await dropPrefixes(prefixes);
      await dropSchemas(schemas);
    }
    return rows;
  },
};
