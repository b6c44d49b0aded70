// The browser client across a timeline rebuild: a delta resume after the
// projection changed ends in the same state as a fresh client, and the view
// says how each subscription was satisfied.
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Hub, MemoryHydrationStore, type HydrationStore } from "../../src/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import {
  createSessionstreamClient,
  type ClientEntity,
  type SessionstreamClient,
  type SessionView,
  type UIReducer,
  type WebSocketConstructor,
} from "../../src/transport/client/index.js";
import { chatRegistry } from "../helpers/chat-app.js";
import { startHarness, until, type Harness } from "./helpers.js";

type ChatJson = { messageId: string; text?: string; chunk?: string };

let h: Harness | undefined;
const clients: SessionstreamClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h?.close();
  h = undefined;
});

function client(): SessionstreamClient {
  const c = createSessionstreamClient({ url: h!.url, WebSocket: WebSocket as unknown as WebSocketConstructor, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
  clients.push(c);
  return c;
}

/** A chat hub whose timeline projection can be "fixed" (chunks upper-cased) before a rebuild. */
function rebuildableHub(store: HydrationStore) {
  const hub = new Hub({ registry: chatRegistry(), store });
  const projection = { shout: false };
  hub.registerUIProjection((ev) => {
    if (ev.name === "ChatInferenceStarted") return [{ name: "ChatMessageStarted", payload: { messageId: ev.payload.messageId } }];
    if (ev.name === "ChatTokensDelta") return [{ name: "ChatMessageAppended", payload: { messageId: ev.payload.messageId, chunk: ev.payload.chunk } }];
    return [];
  });
  hub.registerTimelineProjection((ev, _session, view) => {
    if (ev.name === "ChatInferenceStarted") return [{ kind: "ChatMessage", id: ev.payload.messageId, payload: { messageId: ev.payload.messageId } }];
    if (ev.name !== "ChatTokensDelta") return [];
    const prev = view.get("ChatMessage", ev.payload.messageId)?.payload as { text: string } | undefined;
    const chunk = projection.shout ? ev.payload.chunk.toUpperCase() : ev.payload.chunk;
    return [{ kind: "ChatMessage", id: ev.payload.messageId, payload: { messageId: ev.payload.messageId, text: (prev?.text ?? "") + chunk } }];
  });
  return { hub, projection };
}

/** Folds the UI events like the projection did before the fix. */
const reducer: UIReducer = (draft, ev) => {
  const p = ev.payload as ChatJson;
  if (ev.name === "ChatMessageStarted") return draft.set("ChatMessage", p.messageId, { messageId: p.messageId });
  const prev = draft.get("ChatMessage", p.messageId)?.payload as ChatJson | undefined;
  draft.set("ChatMessage", p.messageId, { messageId: p.messageId, text: (prev?.text ?? "") + (p.chunk ?? "") });
};

function entities(view: SessionView): ClientEntity[] {
  return [...view.getSnapshot().entities.values()].flatMap((m) => [...m.values()]);
}

function texts(view: SessionView): Record<string, string | undefined> {
  return Object.fromEntries(entities(view).map((e) => [e.id, (e.payload as ChatJson).text]));
}

describe("client typed resume", () => {
  it.each([
    ["memory", () => new MemoryHydrationStore()],
    ["sqlite", () => new SqliteHydrationStore({ path: ":memory:", registry: chatRegistry() })],
  ] as const)("a delta resume across a rebuild with a changed projection ends in the state of a fresh client (%s store)", async (_name, store) => {
    const { hub, projection } = rebuildableHub(store());
    h = await startHarness({ hub: hub as never });
    const pub = hub.publisher("s");
    await pub.publish("ChatInferenceStarted", { messageId: "m1" }); // 1
    await pub.publish("ChatTokensDelta", { messageId: "m1", chunk: "old " }); // 2
    await pub.publish("ChatInferenceStarted", { messageId: "m2" }); // 3

    const c = client();
    const view = c.subscribe("s", { reduce: reducer });
    await until(() => view.status === "live");
    expect(view.getResume()).toEqual({ kind: "snapshot", from: 0n, snapshotOrdinal: 3n, epoch: 1n, resync: false });
    await pub.publish("ChatTokensDelta", { messageId: "m2", chunk: "live" }); // 4
    await pub.publish("ChatTokensDelta", { messageId: "m2", chunk: "!" }); // 5
    await until(() => view.getSnapshot().ordinal === 5n);
    expect(texts(view)).toEqual({ m1: "old ", m2: "live!" });

    // A plain reconnect resumes with a delta.
    c.reconnect();
    await until(() => view.status === "connecting");
    await until(() => view.status === "live");
    expect(view.getResume()).toEqual({ kind: "recovered", from: 4n, snapshotOrdinal: 5n, epoch: 1n, resync: false });
    expect(view.getSnapshot().resume).toBe(view.getResume());

    // The projection is fixed and the timeline rebuilt while the client is reconnecting: every entity
    // changes, none gets a newer ordinal. (Live subscribers are told at once; this one missed it.)
    projection.shout = true;
    c.reconnect();
    await until(() => view.status === "connecting");
    await hub.rebuildTimeline("s");
    await until(() => view.status === "live" && view.getResume()?.epoch === 2n);
    expect(view.getResume()).toEqual({ kind: "reset", from: 0n, snapshotOrdinal: 5n, epoch: 2n, resync: false });
    expect(texts(view)).toEqual({ m1: "OLD ", m2: "LIVE!" });

    const fresh = client().subscribe("s", { reduce: reducer });
    await until(() => fresh.status === "live");
    expect(fresh.getResume()).toMatchObject({ kind: "snapshot", epoch: 2n });
    expect(entities(view)).toEqual(entities(fresh));
    expect(view.getSnapshot().ordinal).toBe(fresh.getSnapshot().ordinal);

    // And both follow the same live events from there.
    await pub.publish("ChatTokensDelta", { messageId: "m1", chunk: "+" }); // 6
    await until(() => view.getSnapshot().ordinal === 6n && fresh.getSnapshot().ordinal === 6n);
    expect(entities(view)).toEqual(entities(fresh));

    // A rebuild while both are live: each gets a reset snapshot on its connection, no reconnect.
    projection.shout = false;
    await hub.rebuildTimeline("s");
    await until(() => view.getResume()?.epoch === 3n && fresh.getResume()?.epoch === 3n);
    expect(view.getResume()).toMatchObject({ kind: "reset", epoch: 3n });
    expect(texts(view)).toEqual({ m1: "old +", m2: "live!" });
    expect(entities(view)).toEqual(entities(fresh));
  });

  it("a view that fell behind is resynced on the same connection and ends in the state of a fresh client", async () => {
    const hub = new Hub({ registry: chatRegistry() });
    const chunk = "z".repeat(16 * 1024);
    // Each event: 8 UI frames of 16 KiB naming the event; the timeline keeps one small entity naming it too.
    hub.registerUIProjection((ev) => Array.from({ length: 8 }, () => ({ name: "ChatMessageAppended" as const, payload: { messageId: "m", chunk, status: `event ${ev.ordinal}` } })));
    hub.registerTimelineProjection((ev) => [{ kind: "ChatMessage", id: "m", payload: { messageId: "m", text: `event ${ev.ordinal}` } }]);
    const mirror: UIReducer = (draft, ev) => draft.set("ChatMessage", "m", { messageId: "m", text: (ev.payload as { status: string }).status });
    h = await startHarness({ hub: hub as never, server: { slowConsumers: "resync", limits: { maxQueuedBytesPerConnection: 512 * 1024 } } });
    const pub = hub.publisher("s");
    await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "" }); // 1

    const sockets: WebSocket[] = [];
    class RecordingWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    }
    const c = createSessionstreamClient({ url: h.url, WebSocket: RecordingWebSocket as unknown as WebSocketConstructor });
    clients.push(c);
    const view = c.subscribe("s", { reduce: mirror });
    await until(() => view.status === "live");
    const statuses: string[] = [];
    c.onStatus((s) => statuses.push(s));

    sockets[0]!.pause(); // the page stops reading (a busy main thread, a slow link)
    let extra = -1;
    for (let i = 0; i < 3000 && extra < 20; i++) {
      await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "" });
      await new Promise((r) => setImmediate(r));
      if (extra >= 0 || h.records.some((r) => r.type === "resync")) extra++;
    }
    expect(h.records.some((r) => r.type === "resync")).toBe(true);
    sockets[0]!.resume();
    await until(() => view.getResume()?.resync === true && view.status === "live", 15_000);
    const cursor = await hub.cursor("s");
    expect(view.getResume()).toEqual({ kind: "recovered", from: 1n, snapshotOrdinal: cursor, epoch: 1n, resync: true });
    // Same connection throughout: no reconnect.
    expect(statuses).toEqual([]);
    expect(sockets).toHaveLength(1);

    await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "" });
    const fresh = client().subscribe("s", { reduce: mirror });
    await until(() => fresh.status === "live" && view.getSnapshot().ordinal === cursor + 1n);
    expect(entities(view)).toEqual(entities(fresh));
    expect((view.get("ChatMessage", "m")!.payload as ChatJson).text).toBe(`event ${cursor + 1n}`);
  });
});
