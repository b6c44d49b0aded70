// Slow consumers, both modes: by default a client whose live queue would
// exceed maxQueuedBytesPerConnection is closed (slow_consumer, 1013); with
// `slowConsumers: "resync"` a client that opted in (`resume=delta`) keeps its
// connection: the subscription's live frames are dropped and a fresh snapshot
// follows once it reads again. Server memory stays bounded either way.
import { afterEach, describe, expect, it } from "vitest";
import { Hub } from "../../src/index.js";
import type { WebSocketServerOptions } from "../../src/transport/index.js";
import { chatRegistry } from "../helpers/chat-app.js";
import { connect, startHarness, until, type Harness, type TestSocket } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const maxQueued = 512 * 1024;
const chunk = "z".repeat(16 * 1024);

/** One backend event fans out 8 UI events of 16 KiB; the timeline keeps one small entity naming the last event. */
async function start(server: Partial<WebSocketServerOptions>) {
  const hub = new Hub({ registry: chatRegistry() });
  hub.registerUIProjection(() => Array.from({ length: 8 }, () => ({ name: "ChatMessageAppended" as const, payload: { messageId: "m", chunk } })));
  hub.registerTimelineProjection((ev) => [{ kind: "ChatMessage", id: "m", payload: { messageId: "m", text: `event ${ev.ordinal}` } }]);
  h = await startHarness({ hub: hub as never, server: { ...server, limits: { maxQueuedBytesPerConnection: maxQueued, closeGraceMs: 10_000 } } });
  return hub;
}

type ChatHub = Awaited<ReturnType<typeof start>>;

/** Publishes while a client does not read, until `done` and `extra` more events; returns the peak of the server's queued bytes. */
async function publishWhileSlow(hub: ChatHub, done: () => boolean, extra = 0): Promise<number> {
  const pub = hub.publisher("s");
  let peak = 0;
  let after = -1;
  for (let i = 0; i < 3000 && after < extra; i++) {
    await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "" });
    await new Promise((r) => setImmediate(r)); // lets the fast client read
    peak = Math.max(peak, h!.ws.stats().queuedBytes);
    if (after >= 0 || done()) after++;
  }
  expect(done()).toBe(true);
  return peak;
}

async function subscribed(...sockets: TestSocket[]): Promise<void> {
  for (const s of sockets) {
    s.subscribe("s");
    await s.nextCase("subscribed");
  }
}

describe("slow consumers", () => {
  it("default mode: closes a slow delta client with slow_consumer and 1013", async () => {
    const hub = await start({});
    const slow = await connect(h!.url + "?resume=delta");
    await subscribed(slow);
    slow.ws.pause();
    const peak = await publishWhileSlow(hub, () => h!.records.some((r) => r.code === "slow_consumer"));
    expect(h!.records.find((r) => r.code === "slow_consumer")).toMatchObject({ type: "disconnected", closeCode: 1013 });
    expect(peak).toBeLessThanOrEqual(maxQueued + 17 * 1024);
    slow.ws.resume();
    expect(await slow.closed).toBe(1013);
    expect(slow.frames.some((f) => f.frame.frame.case === "snapshot" && f.frame.frame.value.resync)).toBe(false);
  });

  it('resync mode: drops the slow subscription\'s live frames and sends a fresh snapshot on the same connection, memory bounded', async () => {
    const hub = await start({ slowConsumers: "resync" });
    await hub.publisher("s").publish("ChatTokensDelta", { messageId: "m", chunk: "" }); // 1: the subscriptions' snapshots hold it
    const slow = await connect(h!.url + "?resume=delta");
    const fast = await connect(h!.url + "?resume=delta");
    await subscribed(slow, fast);
    slow.ws.pause(); // stops reading: the kernel buffers fill, then the server queue
    // Keeps publishing well after the resync started: those frames are dropped, not queued.
    const peak = await publishWhileSlow(hub, () => h!.records.some((r) => r.type === "resync"), 30);
    expect(peak).toBeLessThanOrEqual(maxQueued + 17 * 1024);
    expect(h!.records.find((r) => r.type === "resync")).toMatchObject({ sessionId: "s", code: "slow_consumer" });
    expect(h!.records.some((r) => r.type === "disconnected")).toBe(false);
    expect(h!.ws.stats().connections).toBe(2);
    const cursor = await hub.cursor("s");

    slow.ws.resume();
    const snap = await slow.next((r) => r.frame.frame.case === "snapshot" && r.frame.frame.value.resync, 2, 15_000);
    const at = slow.frames.indexOf(snap);
    expect(at).toBeGreaterThanOrEqual(0);
    await slow.next((r) => r.frame.frame.case === "subscribed", at);
    const frame = snap.frame.frame.case === "snapshot" ? snap.frame.frame.value : undefined;
    // A delta from the subscription's last snapshot, in the same epoch, up to what was published.
    expect(frame).toMatchObject({ snapshotOrdinal: cursor, resync: true, epoch: 1n, changedAfterOrdinal: 1n });
    expect(snap.json).toMatchObject({ snapshot: { resume: "RESUME_KIND_RECOVERED", entities: [{ id: "m", payload: { text: `event ${cursor}` } }] } });
    // Fewer UI frames than published reached the slow client: the rest were dropped, not queued.
    const uiFrames = slow.frames.filter((f) => f.frame.frame.case === "uiEvent").length;
    expect(uiFrames).toBeLessThan(Number(cursor) * 8);
    expect(h!.records.filter((r) => r.type === "subscribed" && r.code === "resync")).toHaveLength(1);

    // Live again on the same connection: the next event arrives, nothing older.
    await hub.publisher("s").publish("ChatTokensDelta", { messageId: "m", chunk: "" });
    await slow.next((r) => r.frame.frame.case === "uiEvent" && r.frame.frame.value.eventOrdinal === cursor + 1n, at);
    expect(slow.frames.slice(at).filter((r) => r.frame.frame.case === "uiEvent" && r.frame.frame.value.eventOrdinal <= cursor)).toEqual([]);
    expect(slow.closeCode).toBeUndefined();
    await until(() => fast.frames.some((r) => r.frame.frame.case === "uiEvent" && r.frame.frame.value.eventOrdinal === cursor + 1n));
    expect(fast.frames.some((f) => f.frame.frame.case === "snapshot" && f.frame.frame.value.resync)).toBe(false);
    slow.close();
    fast.close();
  });

  it("resync mode: a client that did not opt in (a reference client) is still closed with 1013", async () => {
    const hub = await start({ slowConsumers: "resync" });
    const slow = await connect(h!.url);
    await subscribed(slow);
    slow.ws.pause();
    const peak = await publishWhileSlow(hub, () => h!.records.some((r) => r.code === "slow_consumer"));
    expect(peak).toBeLessThanOrEqual(maxQueued + 17 * 1024);
    expect(h!.records.find((r) => r.code === "slow_consumer")).toMatchObject({ type: "disconnected", closeCode: 1013 });
    expect(h!.records.some((r) => r.type === "resync")).toBe(false);
    slow.ws.resume();
    expect(await slow.closed).toBe(1013);
  });
});
