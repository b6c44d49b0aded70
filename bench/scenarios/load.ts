// Scenario: the load that matters, 1000 concurrent LLM streams. 1000
// sessions each stream token events; the offered rate is paced on ~1 ms
// timers and every publish is timed from its scheduled send time (no
// coordinated omission). Per store (memory, SQLite, PostgreSQL when it
// answers) and offered rate: the achieved rate, publish-resolve p50/p99/max,
// the event-loop delay p99 of the server process (perf_hooks
// monitorEventLoopDelay), and publish -> client p99 over websocket for a
// sample of subscribed sessions (clients in a child process). Each answer
// is 200 tokens, then the session starts a new message (its entity holds
// the whole answer, as a chat's does).
//
// The baseline of the achieved rate is the offered rate; the baseline of the
// latencies is the memory store at the same offered rate, measured in the
// same run; the CPU per event (all threads of the process) tells how many
// cores a rate needs. Stores: memory, SQLite with its writer on the event
// loop (the default) and on a worker thread, PostgreSQL.
// BENCH_LOAD_STORES=sqlite,postgres and BENCH_LOAD_RATES=30000 narrow a run
// (memory is always measured: it is the baseline). The store saturates at
// the highest offered rate where it keeps up (achieved >= 97%) with publish
// p99 <= 50 ms.
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { TokensDeltaEventSchema, InferenceStartedEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import pg from "pg";
import { benchRegistry } from "../lib/chat-bench.js";
import { collectGarbage } from "../lib/measure.js";
import { core, postgres, sqlite } from "../lib/pkg.js";
import { makeRow } from "../lib/row.js";
import { startOurs } from "../lib/servers.js";
import { percentileSorted, summarize } from "../lib/stats.js";
import { isLatency, isReady, Swarm } from "../lib/swarm.js";
import { removeDir, tempDir } from "../lib/tmp.js";
import type { HydrationStore } from "../../src/index.js";
import type { Row, Scenario } from "../lib/types.js";

const SESSIONS = 1000;
const SAMPLED = 20;
const TOKENS_PER_ANSWER = 200;
const PG_URL = process.env["SESSIONSTREAM_TEST_PG"] ?? "postgres://postgres@127.0.0.1:5432/test";

interface LoadResult {
  readonly offered: number;
  readonly achieved: number;
  readonly publish: { p50: number; p99: number; max: number };
  readonly eventLoopP99: number;
  /** Share of the run the event loop was busy (performance.eventLoopUtilization): near 1, the main thread is the bottleneck. */
  readonly eventLoopBusy: number;
  /** CPU time of the whole server process (every thread) per event, in microseconds. */
  readonly cpuPerEventUs: number;
  /** CPU time of the main thread per event, in microseconds. */
  readonly mainCpuPerEventUs: number;
  readonly wsP99: number;
  readonly failed: number;
}

interface StoreVariant {
  readonly name: string;
  open(): Promise<{ store: HydrationStore; close(): Promise<void> }>;
}

const STORES: StoreVariant[] = [
  { name: "memory", open: async () => ({ store: new core.MemoryHydrationStore(), close: async () => {} }) },
  sqliteVariant("sqlite", "main"),
  sqliteVariant("sqlite-writer-thread", "thread"),
  {
    name: "postgres",
    open: async () => {
      const schema = `bench_load_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      const store = new postgres.PostgresHydrationStore({ connectionString: PG_URL, schema, registry: benchRegistry(), poolSize: 8 });
      await store.ready();
      return {
        store,
        close: async () => {
          await store.close();
          const admin = new pg.Client({ connectionString: PG_URL });
          await admin.connect();
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
        },
      };
    },
  },
];

/** The SQLite store with its writer on the event loop (the default) or on a worker thread. */
function sqliteVariant(name: string, writer: "thread" | "main"): StoreVariant {
  return {
    name,
    open: async () => {
      const dir = tempDir("load-sqlite");
      const store = new sqlite.SqliteHydrationStore({ path: join(dir, "load.sqlite"), synchronous: "normal", writer });
      return {
        store,
        close: async () => {
          await store.close();
          removeDir(dir);
        },
      };
    },
  };
}

export const scenario: Scenario = {
  name: "load",
  title: "1000 concurrent LLM streams: paced load per store",
  description:
    "ours: 1000 sessions publishing token events at a paced offered rate through the hub (UI + timeline projections, websocket server with a " +
    `sample of ${SAMPLED} subscribed sessions in a child process). Rows: achieved rate (baseline: the offered rate), publish p99, event-loop delay p99 and ` +
    "publish -> client p99 (baseline: the memory store at the same rate, same run). Latencies are timed from each event's scheduled send time.",
  async run(ctx) {
    const durationMs = ctx.quick ? 1500 : 5000;
    const rates = process.env["BENCH_LOAD_RATES"]?.split(",").map(Number) ?? (ctx.quick ? [10_000, 30_000] : [10_000, 20_000, 30_000, 40_000]);
    const only = process.env["BENCH_LOAD_STORES"]?.split(",");
    const rows: Row[] = [];
    const results = new Map<string, LoadResult[]>();
    const available: StoreVariant[] = [];
    for (const variant of STORES) {
      if (only && variant.name !== "memory" && !only.includes(variant.name)) continue;
      try {
        const opened = await variant.open();
        await opened.close();
        available.push(variant);
      } catch (err) {
        ctx.log(`  load: skipping ${variant.name}: ${(err as Error).message.split("\n")[0]}`);
      }
    }
    for (const rate of rates) {
      for (const variant of available) {
        const result = await measure(variant, rate, durationMs, ctx.log);
        results.set(variant.name, [...(results.get(variant.name) ?? []), result]);
        ctx.log(
          `  ${variant.name} @${rate / 1000}k/s: achieved ${result.achieved.toFixed(0)}/s, publish p50 ${result.publish.p50.toFixed(1)} p99 ${result.publish.p99.toFixed(1)} max ${result.publish.max.toFixed(0)} ms, ` +
            `event loop p99 ${result.eventLoopP99.toFixed(1)} ms (busy ${(result.eventLoopBusy * 100).toFixed(0)}%), cpu ${result.cpuPerEventUs.toFixed(0)} µs/event (main thread ${result.mainCpuPerEventUs.toFixed(0)}), ws p99 ${result.wsP99.toFixed(1)} ms${result.failed ? `, ${result.failed} failed` : ""}`,
        );
      }
    }
    const memory = results.get("memory") ?? [];
    for (const variant of available) {
      const list = results.get(variant.name)!;
      list.forEach((r, i) => {
        const base = memory[i]!;
        const size = `${variant.name} @${r.offered / 1000}k ev/s`;
        const one = (v: number) => summarize([v]);
        rows.push(
          makeRow({ scenario: "load", size, metric: "achieved", unit: "events/s", higherIsBetter: true, ours: one(r.achieved), baselineName: "offered rate", baseline: one(r.offered), target: { of: "ratio", op: ">=", value: 0.97 } }),
          makeRow({
            scenario: "load",
            size,
            metric: "publish p99",
            unit: "ms",
            higherIsBetter: false,
            ours: one(r.publish.p99),
            baselineName: "memory store",
            baseline: one(base.publish.p99),
            ...(variant.name === "sqlite" && r.offered === 30_000 ? { target: { of: "ours", op: "<=", value: 50 } as const } : {}),
          }),
          makeRow({
            scenario: "load",
            size,
            metric: "event-loop p99",
            unit: "ms",
            higherIsBetter: false,
            ours: one(r.eventLoopP99),
            baselineName: "memory store",
            baseline: one(base.eventLoopP99),
            ...(variant.name === "sqlite" && r.offered === 30_000 ? { target: { of: "ours", op: "<=", value: 20 } as const } : {}),
          }),
          makeRow({ scenario: "load", size, metric: "ws p99", unit: "ms", higherIsBetter: false, ours: one(r.wsP99), baselineName: "memory store", baseline: one(base.wsP99) }),
          // What the process pays per event on all its threads: times the rate, the cores it needs.
          makeRow({ scenario: "load", size, metric: "cpu per event", unit: "µs", higherIsBetter: false, ours: one(r.cpuPerEventUs), baselineName: "memory store", baseline: one(base.cpuPerEventUs) }),
        );
      });
      const kept = list.filter((r) => r.achieved >= r.offered * 0.97 && r.publish.p99 <= 50 && r.failed === 0).map((r) => r.offered);
      const memoryKept = memory.filter((r) => r.achieved >= r.offered * 0.97 && r.publish.p99 <= 50 && r.failed === 0).map((r) => r.offered);
      const saturation = kept.length > 0 ? Math.max(...kept) : 0;
      ctx.log(`  ${variant.name}: keeps up to ${saturation / 1000}k ev/s of the offered ${rates.map((r) => r / 1000).join("/")}k`);
      rows.push(
        makeRow({
          scenario: "load",
          size: `${variant.name}: highest rate kept`,
          metric: "saturation",
          unit: "events/s",
          higherIsBetter: true,
          ours: summarize([saturation]),
          baselineName: "memory store",
          baseline: summarize([memoryKept.length > 0 ? Math.max(...memoryKept) : 0]),
          note: `offered ${rates.map((r) => r / 1000).join("/")}k ev/s; kept = achieved >= 97% and publish p99 <= 50 ms`,
        }),
      );
    }
    return rows;
  },
};

async function measure(variant: StoreVariant, rate: number, durationMs: number, log: (line: string) => void): Promise<LoadResult> {
  const opened = await variant.open();
  const server = await startOurs({ store: opened.store, limits: { maxQueuedBytesPerConnection: 256 * 1024 * 1024 } });
  const swarm = new Swarm();
  try {
    const sessions = Array.from({ length: SESSIONS }, (_, i) => `load-${i}`);
    // Every session has an answer in flight before the clock starts.
    await Promise.all(sessions.map((s) => server.hub.publisher(s).publish("ChatInferenceStarted", create(InferenceStartedEventSchema, { messageId: "a0", prompt: "" }))));
    for (let i = 0; i < SAMPLED; i++) await swarm.connect("load", "ours", server.url, 1, sessions[Math.floor((i * SESSIONS) / SAMPLED)]!);
    const total = Math.round((rate * durationMs) / 1000);
    const sampledShare = SAMPLED / SESSIONS;
    await swarm.request({ op: "latencyStart", group: "load", capacity: Math.ceil(total * sampledShare * 2) + 1000 }, isReady("load"));
    collectGarbage();
    const publishers = sessions.map((s) => server.hub.publisher(s));
    const tokens = new Uint32Array(SESSIONS);
    const answers = new Uint32Array(SESSIONS);
    const latencies = new Float64Array(total);
    let done = 0;
    let failed = 0;
    const eld = monitorEventLoopDelay({ resolution: 5 });
    eld.enable();
    const elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const mainCpu = process.threadCpuUsage();
    const t0 = process.hrtime.bigint();
    const interval = 1e9 / rate;
    let sent = 0;
    const all: Array<Promise<unknown>> = [];
    while (sent < total) {
      const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
      const due = Math.min(total, Math.floor(elapsedS * rate) + 1);
      while (sent < due) {
        const at = t0 + BigInt(Math.round(sent * interval));
        const i = sent % SESSIONS;
        const k = sent;
        const pub = publishers[i]!;
        let p: Promise<bigint>;
        if (++tokens[i]! > TOKENS_PER_ANSWER) {
          tokens[i] = 0;
          answers[i]!++;
          p = pub.publish("ChatInferenceStarted", create(InferenceStartedEventSchema, { messageId: `a${answers[i]}`, prompt: "" }));
        } else {
          p = pub.publish("ChatTokensDelta", create(TokensDeltaEventSchema, { messageId: `a${answers[i]}`, chunk: at.toString() }));
        }
        all.push(
          p.then(
            () => {
              latencies[k] = Number(process.hrtime.bigint() - at) / 1e6;
              done++;
            },
            () => {
              latencies[k] = Number.NaN;
              failed++;
            },
          ),
        );
        sent++;
      }
      if (sent < total) await sleep(1);
    }
    await Promise.all(all);
    const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
    const eventLoopBusy = performance.eventLoopUtilization(elu).utilization;
    const cpuUsed = process.cpuUsage(cpu);
    const mainCpuUsed = process.threadCpuUsage(mainCpu);
    eld.disable();
    await sleep(200);
    const ws = await swarm.request({ op: "latencyStop", group: "load" }, isLatency("load"));
    if (ws.count === 0) log(`  ${variant.name} @${rate}: no websocket frame arrived`);
    const sorted = latencies.filter((v) => !Number.isNaN(v)).sort();
    return {
      offered: rate,
      achieved: done / elapsedS,
      publish: { p50: percentileSorted(sorted, 50), p99: percentileSorted(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN },
      eventLoopP99: eld.percentile(99) / 1e6,
      eventLoopBusy,
      cpuPerEventUs: (cpuUsed.user + cpuUsed.system) / Math.max(1, done),
      mainCpuPerEventUs: (mainCpuUsed.user + mainCpuUsed.system) / Math.max(1, done),
      wsP99: ws.p99,
      failed,
    };
  } finally {
    await swarm.close();
    await server.close();
    await opened.close();
  }
}
