import { isMessage } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createCommandIngress } from "../../src/transport/index.js";
import { createPayloadDecoder } from "../../src/index.js";
import {
  createSessionstreamClient,
  type ClientEntity,
  type SessionstreamClient,
  type SessionView,
  type UIReducer,
  type WebSocketConstructor,
} from "../../src/transport/client/index.js";
import { ChatMessageEntitySchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { foldChatUI } from "../helpers/chat-app.js";
import { startHarness, until, type Harness } from "./helpers.js";

type ChatJson = { messageId: string; role?: string; text?: string; status?: string; chunk?: string };

/** The client-side mirror of the chat timeline projection, on protobuf JSON payloads. */
const chatReducer: UIReducer = (draft, ev) => {
  const p = ev.payload as ChatJson;
  const prev = draft.get("ChatMessage", p.messageId)?.payload as ChatJson | undefined;
  switch (ev.name) {
    case "ChatMessageStarted":
      return draft.set("ChatMessage", p.messageId, { messageId: p.messageId, role: "assistant", status: "streaming" });
    case "ChatMessageAppended":
      return draft.set("ChatMessage", p.messageId, { ...prev, messageId: p.messageId, text: (prev?.text ?? "") + (p.chunk ?? "") });
    case "ChatMessageFinished":
      return draft.set("ChatMessage", p.messageId, { ...prev, messageId: p.messageId, status: "finished" });
    case "ChatMessageDeleted":
      return draft.delete("ChatMessage", p.messageId);
  }
};

let h: Harness | undefined;
const clients: SessionstreamClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h?.close();
  h = undefined;
});

function client(options: Partial<Parameters<typeof createSessionstreamClient>[0]> = {}): SessionstreamClient {
  const c = createSessionstreamClient({ url: h!.url, WebSocket: WebSocket as unknown as WebSocketConstructor, reconnect: { initialDelayMs: 20, maxDelayMs: 100 }, ...options });
  clients.push(c);
  return c;
}

function entities(view: SessionView): Array<Omit<ClientEntity, "typeName">> {
  return [...view.getSnapshot().entities.values()].flatMap((m) => [...m.values()]).map(({ typeName: _t, ...rest }) => rest);
}

async function serverEntities(sessionId: string) {
  const snap = await h!.hub.snapshot(sessionId);
  return snap.entities.map((e) => ({
    kind: e.kind,
    id: e.id,
    createdOrdinal: e.createdOrdinal,
    lastEventOrdinal: e.lastEventOrdinal,
    payload: h!.hub.registry.toJson("entities", e.kind, e.payload),
  }));
}

describe("browser client (on Node with ws)", () => {
  it("applies the snapshot then live frames; state is stable between changes and shaped for useSyncExternalStore", async () => {
    h = await startHarness();
    await h.hub.submit("s", "ChatStartInference", { prompt: "before" });
    const c = client();
    const view = c.subscribe("s", { reduce: chatReducer });
    let notified = 0;
    const stop = view.subscribe(() => notified++);
    await until(() => view.getSnapshot().status === "live");
    const live = view.getSnapshot();
    expect(view.getSnapshot()).toBe(live); // same object while nothing changes
    expect(live.ordinal).toBe(5n);
    expect(typeof live.ordinal).toBe("bigint");
    expect(view.get("ChatMessage", "m1")).toMatchObject({ createdOrdinal: 1n, lastEventOrdinal: 5n, typeName: "chat.v1.ChatMessageEntity" });
    expect((view.get("ChatMessage", "m1")!.payload as ChatJson).text).toBe("Ordinals order events.");
    expect(notified).toBeGreaterThan(0);

    const events: bigint[] = [];
    view.onUIEvent((ev) => events.push(ev.ordinal));
    await h.hub.submit("s", "ChatStartInference", { prompt: "live" });
    await until(() => view.getSnapshot().ordinal === 10n);
    expect(view.getSnapshot()).not.toBe(live);
    expect(events).toEqual([6n, 7n, 8n, 9n, 10n]);
    expect(entities(view)).toEqual(await serverEntities("s"));
    expect(view.list("ChatMessage").map((e) => e.id)).toEqual(["m1", "m2"]);
    stop();
    const before = notified;
    await h.hub.publisher("s").publish("ChatMessageDeleted", { messageId: "m1" });
    await until(() => view.getSnapshot().ordinal === 11n);
    expect(notified).toBe(before);
    expect(view.get("ChatMessage", "m1")).toBeUndefined();
  });

  it("a client that reconnects mid-stream ends with the same timeline as one that stayed connected", async () => {
    h = await startHarness();
    const stayed = client().subscribe("s", { reduce: chatReducer });
    const flaky = client();
    const flakyView = flaky.subscribe("s", { reduce: chatReducer });
    const stayedEvents: Array<{ name: string; payload: ChatJson }> = [];
    stayed.onUIEvent((ev) => stayedEvents.push({ name: ev.name, payload: ev.payload as ChatJson }));
    const flakyOrdinals: bigint[] = [];
    flakyView.onUIEvent((ev) => flakyOrdinals.push(ev.ordinal));
    await until(() => stayed.getSnapshot().status === "live" && flakyView.getSnapshot().status === "live");

    const hub = h.hub;
    const original = hub.snapshot.bind(hub);
    const deltas: bigint[] = [];
    hub.snapshot = (sessionId, options) => {
      if (options?.changedAfter) deltas.push(options.changedAfter);
      return original(sessionId, options);
    };
    const pub = h.hub.publisher("s");
    let reconnects = 0;
    flaky.onStatus((s) => s === "reconnecting" && reconnects++);
    for (let m = 1; m <= 3; m++) {
      const messageId = `m${m}`;
      await pub.publish("ChatInferenceStarted", { messageId, prompt: "p" });
      for (let i = 0; i < 20; i++) {
        await pub.publish("ChatTokensDelta", { messageId, chunk: `${m}.${i} ` });
        if (i % 7 === 3) flaky.reconnect(); // drop the socket mid-stream, several times ...
        if (i % 7 === 6) await until(() => flakyView.getSnapshot().status === "live"); // ... events published meanwhile are missed live
        await new Promise((r) => setImmediate(r));
      }
      await pub.publish("ChatInferenceFinished", { messageId });
    }
    await pub.publish("ChatMessageDeleted", { messageId: "m2" });
    const final = (await h.hub.snapshot("s")).snapshotOrdinal;
    await until(() => stayed.getSnapshot().ordinal === final && flakyView.getSnapshot().ordinal === final && flakyView.getSnapshot().status === "live");

    expect(reconnects).toBeGreaterThanOrEqual(3);
    expect(deltas.length).toBeGreaterThanOrEqual(3); // resubscribed with its last ordinal, served as delta snapshots
    const server = await serverEntities("s");
    expect(entities(stayed)).toEqual(server);
    expect(entities(flakyView)).toEqual(server);
    // Live frames the flaky client did see came in order without duplicates.
    expect(flakyOrdinals.every((o, i) => i === 0 || o > flakyOrdinals[i - 1]!)).toBe(true);
    // The stayed client saw every UI event exactly once: folding them gives the durable texts.
    const folded = foldChatUI(stayedEvents);
    expect([...folded.keys()]).toEqual(["m1", "m3"]);
    expect(folded.get("m3")!.text).toBe((server.find((e) => e.id === "m3")!.payload as ChatJson).text);
  });

  it("without a reducer, entities follow snapshots and a resubscribe after reconnect brings them up to date", async () => {
    h = await startHarness();
    const c = client();
    const view = c.subscribe("s");
    await until(() => view.getSnapshot().status === "live");
    await h.hub.submit("s", "ChatStartInference", { prompt: "x" });
    await until(() => view.getSnapshot().ordinal === 5n);
    expect(entities(view)).toEqual([]); // live events do not touch entities without a reducer
    c.reconnect();
    await until(() => view.getSnapshot().snapshotOrdinal === 5n && view.getSnapshot().status === "live");
    expect(entities(view)).toEqual(await serverEntities("s"));
  });

  it("decodes payloads into typed messages given a registry", async () => {
    h = await startHarness();
    await h.hub.submit("s", "ChatStartInference", { prompt: "typed" });
    const c = client({ registry: createPayloadDecoder(h.hub.registry.typeRegistry) });
    const view = c.subscribe("s");
    await until(() => view.getSnapshot().status === "live");
    const payload = view.get("ChatMessage", "m1")!.payload;
    expect(isMessage(payload, ChatMessageEntitySchema)).toBe(true);
    expect((payload as { text: string }).text).toBe("Ordinals order events.");
  });

  it("marks a refused subscription with status error and code forbidden", async () => {
    h = await startHarness({ server: { authorize: (r) => r.action !== "subscribe" || r.sessionId !== "secret" } });
    const c = client();
    const view = c.subscribe("secret");
    await until(() => view.getSnapshot().status === "error");
    expect(view.getSnapshot().error).toMatchObject({ code: "forbidden" });
    expect(entities(view)).toEqual([]);
  });

  it("submits commands with one idempotency key across retries, so the handler runs once", async () => {
    h = await startHarness();
    const ingress = createCommandIngress({ hub: h.hub, respond: "completed" });
    h.http.removeAllListeners("request");
    h.http.on("request", (req, res) => void ingress(req, res));
    let runs = 0;
    h.hub.observe((a) => a.event.name === "ChatInferenceStarted" && runs++);
    const keys: string[] = [];
    let calls = 0;
    // The first attempt reaches the server but its answer is "lost" (connection dropped).
    const flakyFetch = async (url: string, init: { method: string; headers: Record<string, string>; body: string }) => {
      keys.push(init.headers["idempotency-key"]!);
      const res = await fetch(url, init);
      if (++calls === 1) throw new TypeError("fetch failed: socket hang up");
      return res;
    };
    const c = client({ fetch: flakyFetch });
    const result = await c.submit("s", "ChatStartInference", { prompt: "only once" });
    expect(result).toMatchObject({ status: 200, replayed: true });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(runs).toBe(1);
    const second = await c.submit("s", "ChatStartInference", { prompt: "a new submission" });
    expect(second.idempotencyKey).not.toBe(keys[0]);
    expect(runs).toBe(2);
    await expect(c.submit("s", "Nope", {})).rejects.toMatchObject({ code: "unknown_command", status: 404 });
    await expect(c.submit("s", "ChatStartInference", { prompt: 1 })).rejects.toMatchObject({ code: "invalid_json" });
  });
});
