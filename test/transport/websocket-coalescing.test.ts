// Frames built once per broadcast and coalesced per socket per tick: the
// frames a connection gets in one tick leave in one socket write (early past
// the flush threshold), each still its own websocket message, in order; the
// prebuilt frame buffer is shared by every socket and never mutated; the
// queue bound (maxQueuedBytesPerConnection) holds within one tick; a
// connection that negotiated permessage-deflate gets compressed frames.
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import * as wsModule from "ws";
import WebSocket, { WebSocketServer } from "ws";
import { ChatMessageUpdateSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { Hub } from "../../src/index.js";
import { Connection } from "../../src/transport/connection.js";
import { FlushScheduler } from "../../src/transport/flush-scheduler.js";
import { encodeServerFrame, encodeUIEvent } from "../../src/transport/frame-codec.js";
import { resolveLimits } from "../../src/transport/index.js";
import { chatRegistry } from "../helpers/chat-app.js";
import { connect, startHarness, until, type Harness, type TestSocket } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Records every write on the server side of each upgraded socket, in connection order. */
function spyWrites(harness: Harness): Array<Array<{ chunk: Buffer; copy: Buffer }>> {
  const sockets: Array<Array<{ chunk: Buffer; copy: Buffer }>> = [];
  harness.http.prependListener("upgrade", (_req, socket: Socket) => {
    const writes: Array<{ chunk: Buffer; copy: Buffer }> = [];
    sockets.push(writes);
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk)) writes.push({ chunk, copy: Buffer.from(chunk) });
      return write(chunk, ...rest);
    }) as typeof socket.write;
  });
  return sockets;
}

/** `ws`'s own framing of a server text frame (unmasked), header and payload joined. */
function wsFrame(data: Buffer): Buffer {
  const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } };
  return Buffer.concat(Sender.frame(data, { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true }));
}

async function subscribed(...sockets: TestSocket[]): Promise<void> {
  for (const s of sockets) {
    s.subscribe("s");
    await s.nextCase("subscribed");
  }
}

function chunks(c: TestSocket): string[] {
  return c.frames.filter((f) => f.frame.frame.case === "uiEvent").map((f) => (f.json as { uiEvent: { payload: { chunk: string } } }).uiEvent.payload.chunk);
}

describe("prebuilt frames", () => {
  it("carry the websocket frame ws would build, header and payload in one buffer", () => {
    const registry = chatRegistry().typeRegistry;
    for (const size of [0, 100, 125, 126, 1000, 65_535, 65_536, 200_000]) {
      const payload = create(ChatMessageUpdateSchema, { messageId: "m", chunk: "é".repeat(size >> 1) + "x".repeat(size & 1) });
      const frame = encodeUIEvent("s", 7n, "ChatMessageAppended", payload, registry);
      expect(frame.wire).toBeDefined();
      expect(frame.wire!.equals(wsFrame(frame.data))).toBe(true);
      expect(frame.bytes).toBe(frame.data.byteLength);
      // `data` is a view of `wire` (no second copy of the payload).
      expect(frame.data.buffer).toBe(frame.wire!.buffer);
      expect(frame.wire!.byteOffset + frame.wire!.byteLength).toBe(frame.data.byteOffset + frame.data.byteLength);
    }
    const pong = encodeServerFrame({ case: "pong", value: { $typeName: "sessionstream.v1.PongFrame", nonce: "n" } }, registry);
    expect(pong.wire!.equals(wsFrame(pong.data))).toBe(true);
  });

  it("are written as the same buffer to every subscriber and never mutated (server frames are unmasked)", async () => {
    h = await startHarness();
    const writes = spyWrites(h);
    const clients = [await connect(h.url), await connect(h.url), await connect(h.url)];
    await subscribed(...clients);
    const before = writes.map((w) => w.length);
    await h.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m", chunk: "shared" });
    for (const c of clients) await c.nextCase("uiEvent");
    const sent = writes.map((w, i) => w.slice(before[i]));
    expect(sent.map((w) => w.length)).toEqual([1, 1, 1]);
    const buffer = sent[0]![0]!.chunk;
    for (const w of sent) expect(w[0]!.chunk).toBe(buffer);
    // Unchanged after every socket wrote it, and exactly what each client parsed as one message.
    expect(buffer.equals(sent[0]![0]!.copy)).toBe(true);
    for (const c of clients) {
      const ui = c.frames.find((f) => f.frame.frame.case === "uiEvent")!;
      expect(buffer.equals(wsFrame(Buffer.from(JSON.stringify(ui.json))))).toBe(true);
      expect(chunks(c)).toEqual(["shared"]);
    }
  });
});

describe("coalescing per socket per tick", () => {
  it("sends the frames of one tick in one socket write, each its own message, in order", async () => {
    h = await startHarness();
    const writes = spyWrites(h);
    const a = await connect(h.url);
    const b = await connect(h.url);
    await subscribed(a, b);
    const before = writes.map((w) => w.length);
    const pub = h.hub.publisher("s");
    const expected = Array.from({ length: 50 }, (_, i) => `t${i}`);
    // Published in one go: the fanouts run in this tick's microtasks.
    await Promise.all(expected.map((chunk) => pub.publish("ChatTokensDelta", { messageId: "m", chunk })));
    await until(() => chunks(a).length === 50 && chunks(b).length === 50);
    expect(chunks(a)).toEqual(expected);
    expect(chunks(b)).toEqual(expected);
    const ordinals = a.frames.filter((f) => f.frame.frame.case === "uiEvent").map((f) => f.frame.frame.case === "uiEvent" && f.frame.frame.value.eventOrdinal);
    expect(ordinals).toEqual([...ordinals].sort((x, y) => Number(BigInt(x as bigint) - BigInt(y as bigint))));
    const sent = writes.map((w, i) => w.slice(before[i]));
    expect(sent.map((w) => w.length)).toEqual([1, 1]);
    // Both sockets got the same frames this tick: one joined buffer serves both.
    expect(sent[0]![0]!.chunk).toBe(sent[1]![0]!.chunk);
  });

  it("writes a long burst early, past a quarter of maxQueuedBytesPerConnection (at most 64 KiB), in order", async () => {
    const maxQueued = 128 * 1024; // flushes every 32 KiB
    h = await startHarness({ server: { limits: { maxQueuedBytesPerConnection: maxQueued } } });
    const writes = spyWrites(h);
    const c = await connect(h.url);
    await subscribed(c);
    const before = writes[0]!.length;
    const pub = h.hub.publisher("s");
    const expected = Array.from({ length: 100 }, (_, i) => `${i}:` + "x".repeat(1000));
    // One tick: every publish resolves in microtasks.
    for (const chunk of expected) await pub.publish("ChatTokensDelta", { messageId: "m", chunk });
    const inTick = writes[0]!.length - before;
    await until(() => chunks(c).length === 100);
    expect(chunks(c)).toEqual(expected);
    const sent = writes[0]!.slice(before);
    // ~110 KB in 32 KiB writes, the first ones during the burst; none larger than the threshold plus one frame.
    expect(inTick).toBeGreaterThanOrEqual(3);
    expect(sent.length).toBeGreaterThanOrEqual(4);
    for (const w of sent) expect(w.chunk.byteLength).toBeLessThanOrEqual(32 * 1024 + 1200);
    expect(h.records.some((r) => r.code === "slow_consumer")).toBe(false);
  });

  it("keeps maxQueuedBytesPerConnection within one tick: a client that stops reading is closed with slow_consumer and 1013", async () => {
    const hub = new Hub({ registry: chatRegistry() });
    const chunk = "z".repeat(16 * 1024);
    hub.registerUIProjection(() => Array.from({ length: 8 }, () => ({ name: "ChatMessageAppended" as const, payload: { messageId: "m", chunk } })));
    const maxQueued = 512 * 1024;
    h = await startHarness({ hub: hub as never, server: { limits: { maxQueuedBytesPerConnection: maxQueued, closeGraceMs: 10_000 } } });
    const slow = await connect(h.url);
    await subscribed(slow);
    slow.ws.pause();
    const pub = hub.publisher("s");
    let peak = 0;
    // No yield to the event loop between publishes: everything happens in one tick.
    for (let i = 0; i < 2000 && !h.records.some((r) => r.code === "slow_consumer"); i++) {
      await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "" });
      peak = Math.max(peak, h.ws.stats().queuedBytes);
    }
    expect(h.records.find((r) => r.code === "slow_consumer")).toMatchObject({ type: "disconnected", closeCode: 1013 });
    expect(peak).toBeLessThanOrEqual(maxQueued + 17 * 1024);
    slow.ws.resume();
    expect(await slow.closed).toBe(1013);
    // The error frame came after every frame queued before it, and last.
    expect(slow.frames.at(-1)!.json).toMatchObject({ error: { code: "slow_consumer" } });
    expect(slow.cases().slice(0, 3)).toEqual(["hello", "snapshot", "subscribed"]);
    expect(new Set(slow.cases().slice(3, -1))).toEqual(new Set(["uiEvent"]));
  });

  it("counts the frames of the current tick in stats().queuedBytes", async () => {
    h = await startHarness();
    const c = await connect(h.url);
    await subscribed(c);
    const pub = h.hub.publisher("s");
    await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "x".repeat(1000) });
    // Not flushed yet: the tick is still running.
    expect(h.ws.stats().queuedBytes).toBeGreaterThan(1000);
    await new Promise((r) => setImmediate(r));
    await c.nextCase("uiEvent");
    await until(() => h!.ws.stats().queuedBytes === 0);
  });
});

/** A plain `ws` server whose connections are driven by a bare {@link Connection}; records the server's socket writes. */
async function bareServer(perMessageDeflate: boolean | object, onConnection: (conn: Connection) => void) {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const written: Buffer[] = [];
  wss.on("connection", (ws, req) => {
    const socket = req.socket;
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk)) written.push(chunk);
      return write(chunk, ...rest);
    }) as typeof socket.write;
    const limits = resolveLimits({});
    onConnection(new Connection("c", ws, socket, undefined, limits, false, new FlushScheduler(limits.maxQueuedBytesPerConnection)));
  });
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`,
    written,
    async close() {
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function uiFrames(...chunks: string[]) {
  const registry = chatRegistry().typeRegistry;
  return chunks.map((chunk, i) => encodeUIEvent("s", BigInt(i + 1), "ChatMessageAppended", create(ChatMessageUpdateSchema, { messageId: "m", chunk }), registry));
}

describe("a tick with a big frame", () => {
  it("writes the big frame's buffer as it is (no copy into a joined buffer), after the small ones, in order", async () => {
    const frames = uiFrames("a", "b", "c".repeat(300_000), "d");
    const server = await bareServer(false, (conn) => {
      for (const f of frames) conn.write(f);
    });
    const client = new WebSocket(server.url, { perMessageDeflate: false });
    const received: string[] = [];
    client.on("message", (data: Buffer) => received.push(data.toString("utf8")));
    await until(() => received.length === 4);
    expect(received).toEqual(frames.map((f) => f.data.toString("utf8")));
    expect(server.written.some((w) => w === frames[2]!.wire)).toBe(true);
    for (const w of server.written) expect(w.byteLength).toBeLessThanOrEqual(frames[2]!.wire!.byteLength);
    client.terminate();
    await server.close();
  });
});

describe("permessage-deflate", () => {
  it("is not negotiated with a client that offers it: the prebuilt frames are the right bytes", async () => {
    h = await startHarness();
    const c = await connect(h.url, { perMessageDeflate: true });
    expect(c.ws.extensions).toBe("");
    await subscribed(c);
    await h.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m", chunk: "plain" });
    await c.nextCase("uiEvent");
    expect(chunks(c)).toEqual(["plain"]);
  });

  it("a connection that negotiated it sends every frame through ws (compressed), in order", async () => {
    const frames = uiFrames("a", "b".repeat(5000), "c");
    const server = await bareServer({ threshold: 0 }, (conn) => {
      for (const f of frames) conn.write(f);
    });
    const client = new WebSocket(server.url, { perMessageDeflate: true });
    const received: string[] = [];
    client.on("message", (data: Buffer) => received.push(data.toString("utf8")));
    await until(() => received.length === 3);
    expect(client.extensions).toBe("permessage-deflate");
    expect(received).toEqual(frames.map((f) => f.data.toString("utf8")));
    // None of the prebuilt (uncompressed) frames went to the socket.
    for (const f of frames) expect(server.written.some((w) => w === f.wire || w.includes(f.data))).toBe(false);
    client.terminate();
    await server.close();
  });
});
