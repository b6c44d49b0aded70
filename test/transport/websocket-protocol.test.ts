import { afterEach, describe, expect, it, vi } from "vitest";
import { connect, startHarness, until, type Harness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("websocket protocol", () => {
  it("sends hello once with a connection id, then snapshot, subscribed and live uiEvent frames", async () => {
    h = await startHarness();
    await h.hub.submit("s1", "ChatStartInference", { prompt: "first" });
    const c = await connect(h.url);
    const hello = c.frames[0]!.frame.frame;
    expect(hello.case).toBe("hello");
    expect(hello.case === "hello" && hello.value.connectionId).toMatch(/^[0-9a-f-]{36}$/);

    c.subscribe("s1");
    const sub = await c.nextCase("subscribed");
    expect(c.cases()).toEqual(["hello", "snapshot", "subscribed"]);
    const snap = c.frames[1]!.frame.frame;
    if (snap.case !== "snapshot") throw new Error("expected snapshot");
    expect(snap.value.sessionId).toBe("s1");
    expect(snap.value.snapshotOrdinal).toBe(5n);
    expect(snap.value.entities.map((e) => [e.kind, e.id, e.createdOrdinal, e.lastEventOrdinal])).toEqual([["ChatMessage", "m1", 1n, 5n]]);
    expect(sub.frame.frame.case === "subscribed" && sub.frame.frame.value.sessionId).toBe("s1");

    await h.hub.submit("s1", "ChatStartInference", { prompt: "second" });
    await c.next(() => c.frames.length >= 3 + 5);
    const live = c.frames.slice(3).map((f) => (f.frame.frame.case === "uiEvent" ? [f.frame.frame.value.eventOrdinal, f.frame.frame.value.name] : f.frame.frame.case));
    expect(live).toEqual([
      [6n, "ChatMessageStarted"],
      [7n, "ChatMessageAppended"],
      [8n, "ChatMessageAppended"],
      [9n, "ChatMessageAppended"],
      [10n, "ChatMessageFinished"],
    ]);
    expect(c.cases().filter((x) => x === "hello")).toHaveLength(1);
    c.close();
  });

  it("answers ping with pong carrying the same nonce", async () => {
    h = await startHarness();
    const c = await connect(h.url);
    c.send({ ping: { nonce: "n-42" } });
    const pong = await c.nextCase("pong");
    expect(pong.json).toEqual({ pong: { nonce: "n-42" } });
    c.close();
  });

  it("serves several sessions on one connection and stops a session after unsubscribe", async () => {
    h = await startHarness();
    const c = await connect(h.url);
    c.subscribe("a");
    c.subscribe("b");
    await c.next((r) => r.frame.frame.case === "subscribed" && r.frame.frame.value.sessionId === "a");
    await c.next((r) => r.frame.frame.case === "subscribed" && r.frame.frame.value.sessionId === "b");
    await h.hub.submit("a", "ChatStartInference", { prompt: "x" });
    await h.hub.submit("b", "ChatStartInference", { prompt: "y" });
    await c.next(() => c.frames.filter((f) => f.frame.frame.case === "uiEvent").length === 10);
    const perSession = (sid: string) =>
      c.frames.filter((f) => f.frame.frame.case === "uiEvent" && f.frame.frame.value.sessionId === sid).length;
    expect([perSession("a"), perSession("b")]).toEqual([5, 5]);

    c.send({ unsubscribe: { sessionId: "a" } });
    const un = await c.nextCase("unsubscribed");
    expect(un.json).toEqual({ unsubscribed: { sessionId: "a" } });
    const mark = c.frames.length;
    await h.hub.submit("a", "ChatStartInference", { prompt: "ignored" });
    await h.hub.submit("b", "ChatStartInference", { prompt: "seen" });
    await c.next(() => c.frames.length >= mark + 5);
    expect(c.frames.slice(mark).every((f) => f.frame.frame.case === "uiEvent" && f.frame.frame.value.sessionId === "b")).toBe(true);
    expect(h.ws.stats().subscriptions).toBe(1);
    c.close();
  });

  it.each([
    ["invalid JSON", "{not json", "bad_client_frame"],
    ["an unknown field", JSON.stringify({ command: { sessionId: "s" } }), "bad_client_frame"],
    ["a wrong field type", JSON.stringify({ subscribe: { sessionId: 7 } }), "bad_client_frame"],
    ["an empty frame", JSON.stringify({}), "protocol_error"],
    ["subscribe without a session id", JSON.stringify({ subscribe: {} }), "protocol_error"],
    ["unsubscribe without a session id", JSON.stringify({ unsubscribe: {} }), "protocol_error"],
    ["an invalid session id", JSON.stringify({ subscribe: { sessionId: "x".repeat(300) } }), "invalid_session_id"],
  ])("answers %s with an error frame and keeps the connection working", async (_label, text, code) => {
    h = await startHarness();
    const c = await connect(h.url);
    c.send(text);
    const err = await c.nextCase("error");
    expect(err.frame.frame.case === "error" && err.frame.frame.value.code).toBe(code);
    expect(err.frame.frame.case === "error" && err.frame.frame.value.message.length).toBeGreaterThan(0);
    c.send({ ping: { nonce: "still-alive" } });
    const pong = await c.nextCase("pong");
    expect(pong.json).toEqual({ pong: { nonce: "still-alive" } });
    c.subscribe("ok");
    await c.nextCase("subscribed");
    c.close();
  });

  it("rejects binary frames with bad_client_frame", async () => {
    h = await startHarness();
    const c = await connect(h.url);
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const err = await c.nextCase("error");
    expect(err.frame.frame.case === "error" && err.frame.frame.value.code).toBe("bad_client_frame");
    c.close();
  });

  it("reports connections and closes sockets with 1001 on close()", async () => {
    h = await startHarness();
    const c = await connect(h.url);
    c.subscribe("s");
    await c.nextCase("subscribed");
    expect(h.ws.stats()).toMatchObject({ connections: 1, subscriptions: 1 });
    expect(h.ws.stats().perConnection[0]!.subscriptions).toEqual(["s"]);
    await h.ws.close();
    expect(await c.closed).toBe(1001);
    await until(() => h!.ws.stats().connections === 0);
  });

  it("serializes each UI event once per fanout, however many subscribers there are", async () => {
    h = await startHarness();
    const clients = await Promise.all([1, 2, 3, 4].map(() => connect(h!.url)));
    const types = h.hub.registry.typeRegistry;
    const spy = vi.spyOn(types, "getMessage");
    const run = async (subscribers: typeof clients, sessionId: string) => {
      for (const c of subscribers) c.subscribe(sessionId);
      for (const c of subscribers) await c.next((r) => r.frame.frame.case === "subscribed" && r.frame.frame.value.sessionId === sessionId);
      spy.mockClear();
      await h!.hub.submit(sessionId, "ChatStartInference", { prompt: "x" });
      for (const c of subscribers) await c.next(() => c.frames.filter((f) => f.frame.frame.case === "uiEvent" && f.frame.frame.value.sessionId === sessionId).length === 5);
      return spy.mock.calls.length;
    };
    const one = await run(clients.slice(0, 1), "one");
    const four = await run(clients, "four");
    expect(one).toBeGreaterThan(0);
    expect(four).toBe(one);
    spy.mockRestore();
    for (const c of clients) c.close();
  });
});
