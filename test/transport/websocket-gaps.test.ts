// Gaps in a session's ordinals. With several nodes, a node can commit an
// event and die before its "applied" notice goes out: other nodes never get
// that event's UI frames. Ordinals are dense per session, so the websocket
// server sees the hole at the next event (or hears `missed` from the hub when
// the event is redelivered) and resyncs: a client that opted in to
// `resume=delta` gets a fresh snapshot on the same connection; a reference
// client is closed with 1013 and resubscribes. Here a second hub on the same
// store plays "another node", and the test forwards its events to the
// websocket server selectively (a dropped forward is a lost notice).
import { afterEach, describe, expect, it } from "vitest";
import { MemoryHydrationStore, type AppliedEvent } from "../../src/index.js";
import { chatHub } from "../helpers/chat-app.js";
import { connect, GatedStore, startHarness, until, type Harness, type TestSocket } from "./helpers.js";

let h: Harness | undefined;
const sockets: TestSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await h?.close();
  h = undefined;
});

/** A node serving websockets (`h`) and "another node" (`other`) applying events into the same store. */
async function twoNodes(store = new MemoryHydrationStore()) {
  h = await startHarness({ hub: chatHub({ store }) });
  const other = chatHub({ store });
  const applied: AppliedEvent[] = [];
  other.observe((a) => applied.push(a));
  const pub = other.publisher("s");
  /** Publishes on the other node; `forward` says what this node hears of it. */
  async function publish(chunk: string | undefined, forward: "notice" | "lost" | "no-ui" = "notice"): Promise<AppliedEvent> {
    if (chunk === undefined) await pub.publish("ChatInferenceStarted", { messageId: "m", prompt: "" });
    else await pub.publish("ChatTokensDelta", { messageId: "m", chunk });
    const a = applied.at(-1)!;
    if (forward === "notice") deliver(a);
    if (forward === "no-ui") h!.ws.advance!("s", a.event.ordinal);
    return a;
  }
  function deliver(a: AppliedEvent): void {
    h!.ws.publishUI(a.event.sessionId, a.event.ordinal, a.uiEvents);
  }
  return { other, publish, deliver };
}

async function client(delta: boolean): Promise<TestSocket> {
  const s = await connect(h!.url + (delta ? "?resume=delta" : ""));
  sockets.push(s);
  return s;
}

async function subscribe(...clients: TestSocket[]): Promise<void> {
  for (const c of clients) {
    c.subscribe("s");
    await c.nextCase("subscribed");
  }
}

const uiOrdinals = (s: TestSocket, from = 0) =>
  s.frames.slice(from).flatMap((r) => (r.frame.frame.case === "uiEvent" ? [r.frame.frame.value.eventOrdinal] : []));
const snapshots = (s: TestSocket) => s.frames.flatMap((r) => (r.frame.frame.case === "snapshot" ? [r] : []));
const textOf = (r: { json: unknown }) => (r.json as { snapshot: { entities?: Array<{ payload: { text?: string } }> } }).snapshot.entities?.[0]?.payload.text ?? "";

describe("gaps in a session's ordinals", () => {
  it("a live delta client that misses an event gets a fresh snapshot holding it, then live frames; the late notice is dropped", async () => {
    const { publish, deliver } = await twoNodes();
    const delta = await client(true);
    await subscribe(delta);
    await publish(undefined); // 1
    await publish("a"); // 2
    await until(() => uiOrdinals(delta).length === 2);
    const lost = await publish("b", "lost"); // 3: its node died before the notice
    await publish("c"); // 4: the hole shows here

    const resync = await delta.next((r) => r.frame.frame.case === "snapshot" && r.frame.frame.value.resync);
    expect(resync.frame.frame.value).toMatchObject({ snapshotOrdinal: 4n, resync: true });
    expect(textOf(resync)).toBe("abc");
    const at = delta.frames.indexOf(resync);
    await delta.next((r) => r.frame.frame.case === "subscribed", at);
    expect(h!.records.find((r) => r.type === "resync")).toMatchObject({ sessionId: "s", code: "events_missed" });
    // The frame that showed the hole is not sent on its own: the snapshot reflects it.
    expect(uiOrdinals(delta)).toEqual([1n, 2n]);

    deliver(lost); // the notice turns up after all (a paused node): already in the snapshot
    await publish("d"); // 5
    await delta.next((r) => r.frame.frame.case === "uiEvent" && r.frame.frame.value.eventOrdinal === 5n, at);
    expect(uiOrdinals(delta)).toEqual([1n, 2n, 5n]);
    expect(delta.closeCode).toBeUndefined();
  });

  it("a reference client that misses an event gets events_missed and is closed with 1013, so it resubscribes", async () => {
    const { publish } = await twoNodes();
    const ref = await client(false);
    await subscribe(ref);
    await publish(undefined);
    await publish("a", "lost");
    await publish("b");
    const error = await ref.nextCase("error").catch(() => undefined);
    expect(error?.json).toMatchObject({ error: { code: "events_missed", sessionId: "s" } });
    expect(await ref.closed).toBe(1013);
    expect(uiOrdinals(ref)).toEqual([1n]);
    // Its resubscribe is whole again.
    const again = await client(false);
    again.subscribe("s", 1n);
    const snap = await again.nextCase("snapshot");
    expect(snap.frame.frame.value).toMatchObject({ snapshotOrdinal: 3n });
    expect(textOf(snap)).toBe("ab");
  });

  it("the same event delivered twice (a paused node's late notice) reaches each subscriber once", async () => {
    const { publish, deliver } = await twoNodes();
    const delta = await client(true);
    const ref = await client(false);
    await subscribe(delta, ref);
    await publish(undefined);
    const twice = await publish("a");
    deliver(twice);
    await publish("b");
    for (const c of [delta, ref]) {
      await c.next((r) => r.frame.frame.case === "uiEvent" && r.frame.frame.value.eventOrdinal === 3n);
      expect(uiOrdinals(c)).toEqual([1n, 2n, 3n]);
    }
    expect(h!.records.some((r) => r.type === "resync" || r.code === "events_missed")).toBe(false);
  });

  it("an event without UI events keeps the ordinals dense: no resync", async () => {
    const { publish } = await twoNodes();
    const ref = await client(false);
    await subscribe(ref);
    await publish(undefined);
    await publish("a", "no-ui");
    await publish("b");
    await ref.next((r) => r.frame.frame.case === "uiEvent" && r.frame.frame.value.eventOrdinal === 3n);
    expect(uiOrdinals(ref)).toEqual([1n, 3n]);
    expect(ref.closeCode).toBeUndefined();
    expect(h!.records.some((r) => r.code === "events_missed")).toBe(false);
  });

  it("missed (a redelivery this node never saw) resyncs subscribers behind it at once, and leaves those past it alone", async () => {
    const { publish } = await twoNodes();
    const delta = await client(true);
    await subscribe(delta);
    await publish(undefined);
    const lost = await publish("a", "lost");
    h!.ws.missed!("s", lost.event.ordinal);
    const resync = await delta.next((r) => r.frame.frame.case === "snapshot" && r.frame.frame.value.resync);
    expect(resync.frame.frame.value).toMatchObject({ snapshotOrdinal: 2n });
    expect(textOf(resync)).toBe("a");
    await delta.next((r) => r.frame.frame.case === "subscribed", delta.frames.indexOf(resync));
    // Once it holds ordinal 2, hearing of 2 again changes nothing.
    h!.ws.missed!("s", lost.event.ordinal);
    await publish("b");
    await delta.next((r) => r.frame.frame.case === "uiEvent" && r.frame.frame.value.eventOrdinal === 3n);
    expect(snapshots(delta).filter((r) => r.frame.frame.case === "snapshot" && r.frame.frame.value.resync)).toHaveLength(1);
  });

  it("a hole among the frames buffered while hydrating is found when the snapshot lands", async () => {
    const store = new GatedStore();
    store.readBeforeGate = true;
    const { publish } = await twoNodes(store);
    await publish(undefined); // 1, before anyone subscribes
    const delta = await client(true);
    const ref = await client(false);
    store.hold();
    delta.subscribe("s");
    ref.subscribe("s");
    await until(() => store.waiting === 2); // both snapshots read at ordinal 1, held
    await publish("a", "lost"); // 2
    await publish("b"); // 3, buffered by both subscriptions
    store.release();

    const resync = await delta.next((r) => r.frame.frame.case === "snapshot" && r.frame.frame.value.resync);
    expect(snapshots(delta)[0]!.frame.frame.value).toMatchObject({ snapshotOrdinal: 1n });
    expect(resync.frame.frame.value).toMatchObject({ snapshotOrdinal: 3n });
    expect(textOf(resync)).toBe("ab");
    expect(uiOrdinals(delta)).toEqual([]);

    expect(await ref.closed).toBe(1013);
    expect(ref.frames.find((r) => r.frame.frame.case === "error")?.json).toMatchObject({ error: { code: "events_missed" } });
    expect(uiOrdinals(ref)).toEqual([]);
  });
});
