// Scenario 4: publish -> client receive latency (p50/p99/max) with 100
// clients of one session at a paced 200/1k (full mode also 10k) events/s;
// against a bare `ws` server that serializes the same frame shape per event,
// encodes it to bytes once, frames it once (`Sender.frame`) and writes that
// buffer to every socket.
//
// The 10k events/s row is client-bound: the one client process parses ~1M
// frames/s there, so it measures the clients more than either server; it is
// labelled so in the table and runs in full mode only.
//
// The publish timestamp (process.hrtime.bigint(), CLOCK_MONOTONIC, shared by
// processes on one machine) travels in the payload; the clients (in a child
// process) JSON.parse every frame in both variants and record now - then.
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { summarize, type Stat } from "../lib/stats.js";
import { collectGarbage } from "../lib/measure.js";
import { makeRow } from "../lib/row.js";
import { startBareWs, startOurs } from "../lib/servers.js";
import { isLatency, isReady, Swarm } from "../lib/swarm.js";
import type { Row, Scenario } from "../lib/types.js";

const SESSION = "latency";
const CLIENTS = 100;

export const scenario: Scenario = {
  name: "latency",
  title: "Publish -> client receive latency, 100 clients",
  description:
    "ours: hub.publish (UI projection only, memory store) of a TokensDelta carrying the publish time; clients parse the uiEvent frame. " +
    "baseline: bare ws server JSON.stringify-ing the same frame shape per event, converting it to bytes once and writing one pre-built frame to every client. " +
    "The 10k ev/s row (full mode only) is client-bound: one client process parses ~1M frames/s. " +
    "Events are paced on 1 ms timers and stamped with their scheduled time (no coordinated omission); clients in a child process; " +
    "p50/p99/max over all frames of a repetition, median over repetitions.",
  async run(ctx) {
    const durationMs = ctx.quick ? 300 : 2000;
    const rates = ctx.quick ? [200, 1000] : [200, 1000, 10000];
    const reps = Math.min(ctx.reps, 3);
    const rows: Row[] = [];
    const swarm = new Swarm();
    const ours = await startOurs({ timeline: false, limits: { maxQueuedBytesPerConnection: 512 * 1024 * 1024 } });
    const bare = await startBareWs();
    try {
      await swarm.connect("ours", "ours", ours.url, CLIENTS, SESSION);
      await swarm.connect("ws", "ws", bare.url, CLIENTS, SESSION);
      const pub = ours.hub.publisher(SESSION);
      let ordinal = 0;
      const variants = {
        ours: (due: bigint) => {
          void pub.publish("ChatTokensDelta", create(TokensDeltaEventSchema, { messageId: "m0", chunk: due.toString() }));
        },
        ws: (due: bigint) => {
          const frame = JSON.stringify({
            uiEvent: {
              sessionId: SESSION,
              eventOrdinal: String(++ordinal),
              name: "ChatMessageAppended",
              payload: { "@type": "type.googleapis.com/chat.v1.ChatMessageUpdate", messageId: "m0", chunk: due.toString() },
            },
          });
          bare.broadcastPreFramed(Buffer.from(frame));
        },
      };
      for (const rate of rates) {
        const total = Math.round((rate * durationMs) / 1000);
        const samples: Record<keyof typeof variants, { p50: number[]; p99: number[]; max: number[] }> = {
          ours: { p50: [], p99: [], max: [] },
          ws: { p50: [], p99: [], max: [] },
        };
        for (let round = 0; round < ctx.warmup + reps; round++) {
          for (const name of Object.keys(variants) as Array<keyof typeof variants>) {
            collectGarbage();
            await swarm.request({ op: "latencyStart", group: name, capacity: total * CLIENTS }, isReady(name));
            const achieved = await paced(rate, total, variants[name]);
            if (achieved < rate * 0.9) ctx.log(`  ${name} @${rate}/s: the publishing loop only reached ${achieved.toFixed(0)} ev/s`);
            await sleep(300);
            // Up to 30 s more for frames still in flight: at 10k ev/s the client process is the bottleneck.
            const r = await swarm.request({ op: "latencyStop", group: name, expected: total * CLIENTS, timeoutMs: 30_000 }, isLatency(name));
            if (r.count < total * CLIENTS) throw new Error(`${name} @${rate}/s: ${r.count} of ${total * CLIENTS} frames arrived`);
            if (round >= ctx.warmup) {
              samples[name].p50.push(r.p50);
              samples[name].p99.push(r.p99);
              samples[name].max.push(r.max);
            }
          }
        }
        const s = (v: keyof typeof variants, m: "p50" | "p99" | "max"): Stat => summarize(samples[v][m]);
        ctx.log(`  ${rate} ev/s: ours p50=${s("ours", "p50").median.toFixed(3)} p99=${s("ours", "p99").median.toFixed(3)} | ws p50=${s("ws", "p50").median.toFixed(3)} p99=${s("ws", "p99").median.toFixed(3)} ms`);
        for (const metric of ["p50", "p99", "max"] as const) {
          rows.push(
            makeRow({
              scenario: "latency",
              size: `${rate / 1000}k ev/s x ${CLIENTS} cl${rate >= 10000 ? " (client-bound)" : ""}`,
              metric,
              unit: "ms",
              higherIsBetter: false,
              ours: s("ours", metric),
              baselineName: "bare ws",
              baseline: s("ws", metric),
              ...(rate === 1000 && metric === "p99" ? { target: { of: "ours", op: "<=", value: 2 } as const } : {}),
            }),
          );
        }
      }
    } finally {
      await swarm.close();
      await ours.close();
      await bare.close();
    }
    return rows;
  },
};

/**
 * Calls `send` `total` times at `rate` per second, catching up on each ~1 ms
 * timer tick. Each call gets its scheduled time (not the time it actually ran),
 * so a server that falls behind shows it in the latency instead of silently
 * lowering the rate (no coordinated omission). Returns the achieved rate.
 */
async function paced(rate: number, total: number, send: (due: bigint) => void): Promise<number> {
  const t0 = process.hrtime.bigint();
  const interval = 1e9 / rate;
  let sent = 0;
  while (sent < total) {
    const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
    const due = Math.min(total, Math.floor(elapsedS * rate) + 1);
    while (sent < due) {
      send(t0 + BigInt(Math.round(sent * interval)));
      sent++;
    }
    if (sent < total) await sleep(1);
  }
  return total / (Number(process.hrtime.bigint() - t0) / 1e9);
}
