// Scenario 8: memory per idle subscribed connection (RSS and V8 heap +
// external) at 1k/2.5k/5k connections; ours against a bare `ws` server that
// does the same subscribe handshake and keeps a room map.
//
// Each repetition starts a fresh server process (--expose-gc); the parent
// opens the connections, subscribes each to one of 100 sessions, waits for
// `subscribed`, and the server reports (after - before) / connections,
// both readings taken after forced GCs. File descriptors: each side needs one
// per connection (ulimit -n is checked).
import { fork, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { interleave } from "../lib/measure.js";
import { makeRow } from "../lib/row.js";
import type { Row, Scenario } from "../lib/types.js";

const SERVER = fileURLToPath(new URL("../lib/memory-server.ts", import.meta.url));

interface Reading {
  rss: number;
  heap: number;
}

export const scenario: Scenario = {
  name: "memory",
  title: "Memory per idle subscribed connection",
  description:
    "ours: hub (memory store) + createWebSocketServer; each client subscribes to one of 100 empty sessions and waits for `subscribed`. " +
    "baseline: bare ws server answering the same subscribe frame and keeping a session -> Set<socket> map. " +
    "Fresh server process per repetition; (after - before) / connections after forced GCs; heap = heapUsed + external.",
  async run(ctx) {
    const sizes = ctx.quick ? [200, 500, 1000] : [1000, 2500, 5000];
    const limit = Number(execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim());
    const rows: Row[] = [];
    for (const n of sizes) {
      if (Number.isFinite(limit) && limit < n + 200) {
        ctx.log(`  skipping ${n} connections: ulimit -n is ${limit}`);
        continue;
      }
      const readings: Record<"ours" | "ws", Reading[]> = { ours: [], ws: [] };
      const variant = (kind: "ours" | "ws") => async () => {
        const r = await measureOnce(kind, n);
        readings[kind].push(r);
        return r.rss;
      };
      await interleave(ctx, `${n} connections (rss B/conn)`, { ours: variant("ours"), ws: variant("ws") }, { warmup: 0, reps: Math.min(ctx.reps, 3) });
      const { summarize } = await import("../lib/stats.js");
      for (const metric of ["rss", "heap"] as const) {
        rows.push(
          makeRow({
            scenario: "memory",
            size: `${n} conns`,
            metric: metric === "rss" ? "RSS/conn" : "heap+ext/conn",
            unit: "KiB",
            higherIsBetter: false,
            ours: summarize(readings.ours.map((r) => r[metric] / 1024)),
            baselineName: "bare ws",
            baseline: summarize(readings.ws.map((r) => r[metric] / 1024)),
            target: { of: "ratio", op: "<=", value: 1.3 },
          }),
        );
      }
    }
    return rows;
  },
};

async function measureOnce(kind: "ours" | "ws", n: number): Promise<Reading> {
  const child: ChildProcess = fork(SERVER, [kind], { execArgv: ["--expose-gc", "--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const next = <T>(op: string) => new Promise<T>((resolve) => {
    const on = (m: { op: string }) => {
      if (m.op === op) {
        child.off("message", on);
        resolve(m as T);
      }
    };
    child.on("message", on);
  });
  const clients: WebSocket[] = [];
  try {
    const { url } = await next<{ url: string }>("listening");
    // One throw-away connection warms the code paths of both servers.
    const warm = await connect(url, 0);
    warm.terminate();
    await sleep(50);
    child.send({ op: "measure" });
    const before = (await next<{ usage: NodeJS.MemoryUsage }>("memory")).usage;
    for (let i = 0; i < n; i += 100) {
      const batch: Promise<WebSocket>[] = [];
      for (let j = i; j < Math.min(n, i + 100); j++) batch.push(connect(url, j));
      clients.push(...(await Promise.all(batch)));
    }
    await sleep(100);
    child.send({ op: "measure" });
    const after = (await next<{ usage: NodeJS.MemoryUsage }>("memory")).usage;
    return {
      rss: (after.rss - before.rss) / n,
      heap: (after.heapUsed + after.external - before.heapUsed - before.external) / n,
    };
  } finally {
    for (const c of clients) c.terminate();
    child.disconnect();
    if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
  }
}

function connect(url: string, i: number): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once("error", reject);
    ws.once("open", () => ws.send(JSON.stringify({ subscribe: { sessionId: `s${i % 100}` } })));
    ws.on("message", function onMessage(data) {
      if (data.toString().includes('"subscribed"')) {
        ws.off("message", onMessage);
        resolve(ws);
      }
    });
  });
}
