import { afterEach, describe, expect, it } from "vitest";
import type { Received } from "./helpers.js";
import { connect, GatedStore, startHarness, until, type Harness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function uiOrdinals(frames: readonly Received[], sessionId: string): bigint[] {
  return frames.flatMap((f) => (f.frame.frame.case === "uiEvent" && f.frame.frame.value.sessionId === sessionId ? [f.frame.frame.value.eventOrdinal] : []));
}

describe("hydration race", () => {
  it("delivers events published while the snapshot loads exactly once, after the snapshot, before subscribed", async () => {
    const store = new GatedStore();
    h = await startHarness({ app: { store } });
    await h.hub.submit("s", "ChatStartInference", { prompt: "before" }); // ordinals 1..5
    const clients = await Promise.all([connect(h.url), connect(h.url), connect(h.url)]);
    store.hold();
    for (const c of clients) c.subscribe("s");
    await until(() => store.waiting === 3);
    // Published while all three snapshots are held: buffered per subscription.
    await h.hub.submit("s", "ChatStartInference", { prompt: "during" }); // ordinals 6..10
    store.release();
    for (const c of clients) await c.nextCase("subscribed");
    await h.hub.submit("s", "ChatStartInference", { prompt: "after" }); // ordinals 11..15
    for (const c of clients) {
      await c.next(() => uiOrdinals(c.frames, "s").length === 5);
      const cases = c.cases();
      // The held snapshot is read after the "during" events were applied: their buffered frames are
      // already reflected in it and are dropped, so only the live frames follow.
      expect(cases).toEqual(["hello", "snapshot", "subscribed", ...Array(5).fill("uiEvent")]);
      const snap = c.frames[1]!.frame.frame;
      expect(snap.case === "snapshot" && snap.value.snapshotOrdinal).toBe(10n);
      expect(uiOrdinals(c.frames, "s")).toEqual([11n, 12n, 13n, 14n, 15n]);
      c.close();
    }
  });

  it("flushes buffered events newer than a snapshot taken before they were applied", async () => {
    const store = new GatedStore();
    h = await startHarness({ app: { store } });
    await h.hub.submit("s", "ChatStartInference", { prompt: "before" }); // 1..5
    const c = await connect(h.url);
    // Take the snapshot first (hold it at the gate after it was read), then publish.
    let snapshotRead!: () => void;
    const read = new Promise<void>((r) => (snapshotRead = r));
    const original = store.snapshot.bind(store);
    let gate!: () => void;
    const held = new Promise<void>((r) => (gate = r));
    store.snapshot = async (sessionId, options) => {
      const snap = await original(sessionId, options);
      snapshotRead();
      await held;
      return snap;
    };
    c.subscribe("s");
    await read;
    await h.hub.submit("s", "ChatStartInference", { prompt: "during" }); // 6..10, not in the snapshot
    gate();
    await c.nextCase("subscribed");
    await h.hub.submit("s", "ChatStartInference", { prompt: "after" }); // 11..15
    await c.next(() => uiOrdinals(c.frames, "s").length === 10);
    expect(c.cases()).toEqual(["hello", "snapshot", ...Array(5).fill("uiEvent"), "subscribed", ...Array(5).fill("uiEvent")]);
    const snap = c.frames[1]!.frame.frame;
    expect(snap.case === "snapshot" && snap.value.snapshotOrdinal).toBe(5n);
    expect(uiOrdinals(c.frames, "s")).toEqual([6n, 7n, 8n, 9n, 10n, 11n, 12n, 13n, 14n, 15n]);
    c.close();
  });

  it("several clients subscribing during a concurrent stream each fold to the server timeline", async () => {
    const tokens = Array.from({ length: 60 }, (_, i) => `t${i} `);
    h = await startHarness();
    const pub = h.hub.publisher("s");
    // A stream that yields to I/O between events, so subscriptions land at arbitrary points in it.
    const run = (async () => {
      await pub.publish("ChatInferenceStarted", { messageId: "m1", prompt: "long" });
      for (const chunk of tokens) {
        await pub.publish("ChatTokensDelta", { messageId: "m1", chunk });
        await new Promise((r) => setImmediate(r));
      }
      await pub.publish("ChatInferenceFinished", { messageId: "m1" });
    })();
    const clients = [];
    for (let i = 0; i < 4; i++) {
      const c = await connect(h.url);
      c.subscribe("s");
      clients.push(c);
    }
    await run;
    const final = await h.hub.snapshot("s");
    expect(final.snapshotOrdinal).toBe(62n);
    for (const c of clients) {
      await c.nextCase("subscribed");
      const snap = c.frames.find((f) => f.frame.frame.case === "snapshot")!.frame.frame;
      if (snap.case !== "snapshot") throw new Error("no snapshot");
      await c.next(() => (uiOrdinals(c.frames, "s").at(-1) ?? snap.value.snapshotOrdinal) === final.snapshotOrdinal);
      const ords = uiOrdinals(c.frames, "s");
      // Contiguous, strictly after the snapshot, no gaps, no duplicates.
      const expected = [];
      for (let o = snap.value.snapshotOrdinal + 1n; o <= final.snapshotOrdinal; o++) expected.push(o);
      expect(ords).toEqual(expected);
      // Snapshot text + appended chunks == the durable text.
      const base = snap.value.entities[0]?.payload ? JSON.parse(JSON.stringify(c.frames.find((f) => f.frame.frame.case === "snapshot")!.json)) : null;
      const baseText: string = base?.snapshot?.entities?.[0]?.payload?.text ?? "";
      const appended = c.frames
        .filter((f) => f.frame.frame.case === "uiEvent" && f.frame.frame.value.name === "ChatMessageAppended")
        .map((f) => (f.json as { uiEvent: { payload: { chunk?: string } } }).uiEvent.payload.chunk ?? "")
        .join("");
      expect(baseText + appended).toBe(tokens.join(""));
      c.close();
    }
  });
});
