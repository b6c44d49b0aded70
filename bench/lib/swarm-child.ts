// A child process holding many websocket / Socket.IO clients, so that the
// clients do not share the server's event loop. Driven over IPC by swarm.ts.
//
// Count mode: counts application frames per group and reports `done` (with
// the monotonic clock) when the expected number has arrived. Websocket
// clients (ours, bare ws) count raw messages without parsing them; the
// Socket.IO client decodes (JSON-parses) every packet before it is counted.
// Latency mode: parses each frame (JSON.parse), reads the publish timestamp
// (process.hrtime.bigint() of the server, same monotonic clock) from
// uiEvent.payload.chunk and records publish -> receive latency.
import { io as sioConnect, type Socket as SioSocket } from "socket.io-client";
import WebSocket from "ws";
import { percentileSorted } from "./stats.js";

export type SwarmRequest =
  | { op: "connect"; group: string; kind: "ws" | "ours" | "sio"; url: string; n: number; session: string }
  | { op: "expect"; group: string; count: number; timeoutMs: number }
  | { op: "latencyStart"; group: string; capacity: number }
  // `expected`: wait (up to `timeoutMs`) until that many frames were recorded; a client-bound
  // rate leaves frames in the sockets' buffers after the publishing ends.
  | { op: "latencyStop"; group: string; expected?: number; timeoutMs?: number }
  | { op: "close"; group?: string };

export type SwarmReply =
  | { op: "connected"; group: string; n: number }
  | { op: "ready"; group: string }
  | { op: "done"; group: string; received: number; at: string }
  | { op: "timeout"; group: string; received: number; expected: number }
  | { op: "latency"; group: string; count: number; p50: number; p99: number; max: number }
  | { op: "closed" }
  | { op: "error"; message: string };

interface Group {
  readonly sockets: Array<WebSocket | SioSocket>;
  mode: "idle" | "count" | "latency";
  received: number;
  expected: number;
  timer: NodeJS.Timeout | undefined;
  latencies: Float64Array;
  nLat: number;
}

const groups = new Map<string, Group>();

function reply(msg: SwarmReply): void {
  process.send?.(msg);
}

function group(name: string): Group {
  let g = groups.get(name);
  if (!g) {
    g = { sockets: [], mode: "idle", received: 0, expected: 0, timer: undefined, latencies: new Float64Array(0), nLat: 0 };
    groups.set(name, g);
  }
  return g;
}

function onFrame(g: Group, data: unknown): void {
  if (g.mode === "count") {
    if (++g.received === g.expected) {
      clearTimeout(g.timer);
      g.mode = "idle";
      reply({ op: "done", group: nameOf(g), received: g.received, at: process.hrtime.bigint().toString() });
    }
  } else if (g.mode === "latency") {
    const now = process.hrtime.bigint();
    const obj = (typeof data === "string" ? JSON.parse(data) : Buffer.isBuffer(data) ? JSON.parse(data.toString("utf8")) : data) as {
      uiEvent?: { payload?: { chunk?: string } };
    };
    const t = obj.uiEvent?.payload?.chunk;
    if (t && g.nLat < g.latencies.length) g.latencies[g.nLat++] = Number(now - BigInt(t)) / 1e6;
  }
}

function nameOf(g: Group): string {
  for (const [k, v] of groups) if (v === g) return k;
  return "";
}

async function connectOne(g: Group, kind: "ws" | "ours" | "sio", url: string, session: string): Promise<void> {
  if (kind === "sio") {
    const s = sioConnect(url, { transports: ["websocket"], forceNew: true, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      s.once("connect_error", reject);
      s.once("connect", () => s.emit("join", session, () => resolve()));
    });
    s.on("ui", (payload: unknown) => onFrame(g, payload));
    g.sockets.push(s);
    return;
  }
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.once("open", () => {
      if (kind === "ws") return resolve();
      // sessionstream protocol: wait for `subscribed` after the snapshot.
      ws.send(JSON.stringify({ subscribe: { sessionId: session } }));
      const onMsg = (data: WebSocket.RawData) => {
        if (data.toString().includes('"subscribed"')) {
          ws.off("message", onMsg);
          resolve();
        }
      };
      ws.on("message", onMsg);
    });
  });
  ws.on("message", (data: WebSocket.RawData) => onFrame(g, data));
  ws.on("error", () => {});
  g.sockets.push(ws);
}

process.on("message", (raw: unknown) => {
  const msg = raw as SwarmRequest;
  void handle(msg).catch((err: unknown) => reply({ op: "error", message: err instanceof Error ? err.message : String(err) }));
});

async function handle(msg: SwarmRequest): Promise<void> {
  switch (msg.op) {
    case "connect": {
      const g = group(msg.group);
      // Batches keep the server's accept backlog from overflowing.
      for (let i = 0; i < msg.n; i += 100) {
        const batch: Promise<void>[] = [];
        for (let j = i; j < Math.min(msg.n, i + 100); j++) batch.push(connectOne(g, msg.kind, msg.url, msg.session));
        await Promise.all(batch);
      }
      reply({ op: "connected", group: msg.group, n: g.sockets.length });
      return;
    }
    case "expect": {
      const g = group(msg.group);
      g.mode = "count";
      g.received = 0;
      g.expected = msg.count;
      clearTimeout(g.timer);
      g.timer = setTimeout(() => {
        g.mode = "idle";
        reply({ op: "timeout", group: msg.group, received: g.received, expected: g.expected });
      }, msg.timeoutMs);
      reply({ op: "ready", group: msg.group });
      return;
    }
    case "latencyStart": {
      const g = group(msg.group);
      g.latencies = new Float64Array(msg.capacity);
      g.nLat = 0;
      g.mode = "latency";
      reply({ op: "ready", group: msg.group });
      return;
    }
    case "latencyStop": {
      const g = group(msg.group);
      const deadline = Date.now() + (msg.timeoutMs ?? 0);
      while (msg.expected !== undefined && g.nLat < msg.expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      g.mode = "idle";
      const sorted = g.latencies.subarray(0, g.nLat).sort();
      reply({
        op: "latency",
        group: msg.group,
        count: g.nLat,
        p50: percentileSorted(sorted, 50),
        p99: percentileSorted(sorted, 99),
        max: g.nLat > 0 ? sorted[g.nLat - 1]! : Number.NaN,
      });
      return;
    }
    case "close": {
      for (const [name, g] of groups) {
        if (msg.group !== undefined && name !== msg.group) continue;
        clearTimeout(g.timer);
        for (const s of g.sockets) {
          if (s instanceof WebSocket) s.terminate();
          else s.disconnect();
        }
        groups.delete(name);
      }
      reply({ op: "closed" });
      return;
    }
  }
}

process.on("disconnect", () => process.exit(0));
