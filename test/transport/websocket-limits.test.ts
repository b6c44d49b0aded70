import { afterEach, describe, expect, it } from "vitest";
import { Hub } from "../../src/index.js";
import { chatRegistry } from "../helpers/chat-app.js";
import { connect, GatedStore, startHarness, TestSocket, until, type Harness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("websocket limits", () => {
  it("closes with 1009 when a client frame exceeds maxFrameBytes", async () => {
    h = await startHarness({ server: { limits: { maxFrameBytes: 1024 } } });
    const c = await connect(h.url);
    c.send({ ping: { nonce: "x".repeat(2000) } });
    expect(await c.closed).toBe(1009);
    await until(() => h!.records.some((r) => r.type === "disconnected"));
    expect(h.records.find((r) => r.type === "disconnected")).toMatchObject({ code: "frame_too_large", closeCode: 1009 });
    // The server keeps serving other clients.
    const d = await connect(h.url);
    d.send({ ping: { nonce: "x".repeat(900) } });
    await d.nextCase("pong");
    d.close();
  });

  it("refuses subscriptions beyond maxSubscriptionsPerConnection with too_many_subscriptions", async () => {
    h = await startHarness({ server: { limits: { maxSubscriptionsPerConnection: 2 } } });
    const c = await connect(h.url);
    c.subscribe("a");
    c.subscribe("b");
    await c.next((r) => r.frame.frame.case === "subscribed" && r.frame.frame.value.sessionId === "b");
    c.subscribe("c");
    const err = await c.nextCase("error");
    expect(err.json).toMatchObject({ error: { code: "too_many_subscriptions", sessionId: "c" } });
    // Resubscribing to a held session does not count as a new one.
    c.subscribe("a");
    await c.next((r) => r.frame.frame.case === "subscribed" && r.frame.frame.value.sessionId === "a", 4);
    c.send({ unsubscribe: { sessionId: "b" } });
    await c.nextCase("unsubscribed");
    c.subscribe("c");
    await c.next((r) => r.frame.frame.case === "subscribed" && r.frame.frame.value.sessionId === "c");
    c.close();
  });

  it("drops a subscription whose hydration buffer overflows, with hydration_buffer_overflow, and keeps the connection", async () => {
    const store = new GatedStore();
    h = await startHarness({ app: { store, tokens: ["a", "b", "c", "d", "e", "f"] }, server: { limits: { maxHydrationBufferEvents: 4 } } });
    await h.hub.submit("s", "ChatStartInference", { prompt: "warm up" }); // loads the hub's session state
    const c = await connect(h.url);
    store.hold();
    c.subscribe("s");
    await until(() => store.waiting === 1);
    await h.hub.submit("s", "ChatStartInference", { prompt: "during hydration" }); // 8 UI events > 4
    const err = await c.nextCase("error");
    expect(err.json).toMatchObject({ error: { code: "hydration_buffer_overflow", sessionId: "s" } });
    expect(err.frame.frame.case === "error" && err.frame.frame.value.message).toContain("maxHydrationBufferEvents 4");
    store.release();
    c.send({ ping: { nonce: "after" } });
    await c.nextCase("pong");
    // Nothing of the dropped subscription is sent, even once its snapshot resolves.
    expect(c.cases()).toEqual(["hello", "error", "pong"]);
    expect(h.ws.stats().subscriptions).toBe(0);
    c.subscribe("s");
    const snap = await c.nextCase("snapshot");
    expect(snap.frame.frame.case === "snapshot" && snap.frame.frame.value.snapshotOrdinal).toBe(16n);
    c.close();
  });

  it("disconnects a slow consumer with slow_consumer and 1013, keeping server memory bounded", async () => {
    const registry = chatRegistry();
    const hub = new Hub({ registry });
    const chunk = "z".repeat(16 * 1024);
    // One backend event fans out 8 UI events of 16 KiB: a lot of bytes for little state.
    hub.registerUIProjection(() => Array.from({ length: 8 }, () => ({ name: "ChatMessageAppended" as const, payload: { messageId: "m", chunk } })));
    const maxQueued = 512 * 1024;
    h = await startHarness({ hub: hub as never, server: { limits: { maxQueuedBytesPerConnection: maxQueued, closeGraceMs: 10_000 } } });
    const slow = await connect(h.url);
    const fast = await connect(h.url);
    slow.subscribe("s");
    fast.subscribe("s");
    await slow.nextCase("subscribed");
    await fast.nextCase("subscribed");
    slow.ws.pause(); // stops reading: the kernel buffers fill, then the server queue
    const pub = hub.publisher("s");
    let peak = 0;
    for (let i = 0; i < 2000 && !h.records.some((r) => r.code === "slow_consumer"); i++) {
      await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "" });
      await new Promise((r) => setImmediate(r)); // lets the fast client read
      peak = Math.max(peak, h.ws.stats().queuedBytes);
    }
    const record = h.records.find((r) => r.code === "slow_consumer");
    expect(record).toMatchObject({ type: "disconnected", closeCode: 1013 });
    // The queue never grew past the limit plus one frame.
    expect(peak).toBeLessThanOrEqual(maxQueued + 17 * 1024);
    expect(h.ws.stats().connections).toBe(1);
    slow.ws.resume();
    expect(await slow.closed).toBe(1013);
    expect(slow.frames.at(-1)!.json).toMatchObject({ error: { code: "slow_consumer" } });
    // The other subscriber is unaffected.
    fast.send({ ping: { nonce: "fine" } });
    await fast.nextCase("pong");
    fast.close();
  });

  it("pauses reading a client whose queue passes readPauseBytes and resumes once it drains", async () => {
    const registry = chatRegistry();
    const hub = new Hub({ registry });
    const chunk = "z".repeat(16 * 1024);
    hub.registerUIProjection(() => [{ name: "ChatMessageAppended" as const, payload: { messageId: "m", chunk } }]);
    h = await startHarness({ hub: hub as never, server: { limits: { maxQueuedBytesPerConnection: 64 * 1024 * 1024, readPauseBytes: 64 * 1024 } } });
    const c = await connect(h.url);
    c.subscribe("s");
    await c.nextCase("subscribed");
    c.ws.pause();
    const pub = hub.publisher("s");
    let published = 0;
    while (h.ws.stats().queuedBytes <= 256 * 1024 && published < 20_000) {
      await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "" });
      published++;
    }
    expect(h.ws.stats().queuedBytes).toBeGreaterThan(256 * 1024);
    // Sent while the server no longer reads this client: answered only after its queue drained.
    c.send({ ping: { nonce: "after-drain" } });
    c.ws.resume();
    const pong = await c.nextCase("pong");
    expect(pong.json).toEqual({ pong: { nonce: "after-drain" } });
    expect(c.cases().filter((k) => k === "uiEvent")).toHaveLength(published);
    expect(c.cases().at(-1)).toBe("pong");
    expect(h.records.some((r) => r.code === "slow_consumer")).toBe(false);
    c.close();
  });

  it("hydrates a session whose snapshot is bigger than maxQueuedBytesPerConnection", async () => {
    const maxQueued = 16 * 1024;
    const tokens = ["x".repeat(40_000), "y".repeat(40_000)];
    h = await startHarness({ app: { tokens }, server: { limits: { maxQueuedBytesPerConnection: maxQueued } } });
    await h.hub.submit("s", "ChatStartInference", { prompt: "big" }); // one ~80 KB entity
    const c = await connect(h.url);
    c.subscribe("s");
    await c.nextCase("subscribed");
    expect(c.cases()).toEqual(["hello", "snapshot", "subscribed"]);
    expect(c.frames[1]!.frame.frame.case === "snapshot" && c.frames[1]!.frame.frame.value.entities.length).toBe(1);
    const text = (c.frames[1]!.json as { snapshot: { entities: Array<{ payload: { text: string } }> } }).snapshot.entities[0]!.payload.text;
    expect(text).toBe(tokens.join(""));
    // Live frames keep their own limit and flow as usual.
    await h.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m1", chunk: "!" });
    const ui = await c.nextCase("uiEvent");
    expect(ui.json).toMatchObject({ uiEvent: { sessionId: "s", eventOrdinal: "5", payload: { chunk: "!" } } });
    // A second connection hydrates the same big snapshot too.
    const d = await connect(h.url);
    d.subscribe("s");
    await d.nextCase("subscribed");
    expect(d.cases()).toEqual(["hello", "snapshot", "subscribed"]);
    expect(h.records.some((r) => r.code === "slow_consumer")).toBe(false);
    expect(h.ws.stats().connections).toBe(2);
    c.close();
    d.close();
  });

  it("refuses a snapshot bigger than maxSnapshotBytes with snapshot_too_large and keeps the connection", async () => {
    h = await startHarness({ app: { tokens: ["x".repeat(4000)] }, server: { limits: { maxSnapshotBytes: 2048 } } });
    await h.hub.submit("s", "ChatStartInference", { prompt: "big" });
    const c = await connect(h.url);
    c.subscribe("s");
    const err = await c.nextCase("error");
    expect(err.json).toMatchObject({ error: { code: "snapshot_too_large", sessionId: "s" } });
    expect(err.frame.frame.case === "error" && err.frame.frame.value.message).toContain("maxSnapshotBytes 2048");
    expect(h.ws.stats().subscriptions).toBe(0);
    c.send({ ping: { nonce: "still" } });
    await c.nextCase("pong");
    expect(c.cases()).toEqual(["hello", "error", "pong"]);
    c.close();
  });

  it("terminates a peer that does not answer heartbeat pings", async () => {
    h = await startHarness({ server: { limits: { heartbeatIntervalMs: 50 } } });
    const dead = new TestSocket(h.url, { autoPong: false });
    const alive = await connect(h.url);
    await dead.opened;
    const code = await dead.closed;
    expect(code).toBe(1006); // terminated without a closing handshake
    expect(h.records.find((r) => r.code === "heartbeat_timeout")).toMatchObject({ type: "disconnected" });
    // A peer that answers pings stays connected through several heartbeats.
    await new Promise((r) => setTimeout(r, 200));
    expect(alive.closeCode).toBeUndefined();
    alive.send({ ping: { nonce: "ok" } });
    await alive.nextCase("pong");
    alive.close();
  });
});
