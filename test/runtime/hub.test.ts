import { create } from "@bufbuild/protobuf";
import { describe, expect, test } from "vitest";
import { Hub, MemoryHydrationStore, SchemaRegistry, SessionstreamError, type ApplyBatch, type RuntimeErrorReport, type UIEvent } from "../../src/index.js";
import {
  ChatMessageEntitySchema,
  InferenceStartedEventSchema,
  StartInferenceCommandSchema,
  TokensDeltaEventSchema,
} from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { chatHub, chatRegistry, foldChatUI } from "../helpers/chat-app.js";

function recordingFanout() {
  const frames: Array<{ sessionId: string; ordinal: bigint; uiEvents: readonly UIEvent[] }> = [];
  return { frames, publishUI: (sessionId: string, ordinal: bigint, uiEvents: readonly UIEvent[]) => void frames.push({ sessionId, ordinal, uiEvents }) };
}

async function rejection(p: Promise<unknown>): Promise<SessionstreamError> {
  try {
    await p;
  } catch (err) {
    return err as SessionstreamError;
  }
  throw new Error("expected a rejection");
}

describe("Hub: the chat flow of DESIGN section 2", () => {
  test("live UI events and the snapshot agree", async () => {
    const fanout = recordingFanout();
    const hub = chatHub({ fanout, tokens: ["Ordinals ", "are ", "bigint."] });
    await hub.submit("session-1", "ChatStartInference", create(StartInferenceCommandSchema, { prompt: "Explain ordinals" }));

    expect(fanout.frames.map((f) => f.ordinal)).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(fanout.frames.map((f) => f.uiEvents[0]!.name)).toEqual([
      "ChatMessageStarted",
      "ChatMessageAppended",
      "ChatMessageAppended",
      "ChatMessageAppended",
      "ChatMessageFinished",
    ]);
    const live = foldChatUI(fanout.frames.flatMap((f) => f.uiEvents) as never);
    const snap = await hub.snapshot("session-1");
    expect(snap.snapshotOrdinal).toBe(5n);
    expect(snap.entities).toHaveLength(1);
    const entity = snap.entities[0]!;
    expect(entity).toMatchObject({ kind: "ChatMessage", id: "m1", createdOrdinal: 1n, lastEventOrdinal: 5n, tombstone: false });
    const payload = entity.payload as unknown as { text: string; status: string };
    expect(live.get("m1")).toEqual({ text: payload.text, status: payload.status });
    expect(payload).toMatchObject({ text: "Ordinals are bigint.", status: "finished" });
    expect(await hub.cursor("session-1")).toBe(5n);
  });

  test("sessions are isolated: ordinals start at 1 per session", async () => {
    const hub = chatHub({ tokens: ["a"] });
    await hub.submit("a", "ChatStartInference", { prompt: "x" });
    await hub.submit("b", "ChatStartInference", { prompt: "y" });
    expect(await hub.cursor("a")).toBe(3n);
    expect(await hub.cursor("b")).toBe(3n);
    expect((await hub.snapshot("b")).entities.map((e) => e.id)).toEqual(["m2"]);
    expect(await hub.snapshot("never")).toEqual({ sessionId: "never", snapshotOrdinal: 0n, entities: [], epoch: 1n });
  });

  test("tombstones drop an entity from the snapshot; createdOrdinal survives updates", async () => {
    const hub = chatHub({ tokens: ["a", "b"] });
    await hub.submit("s", "ChatStartInference", { prompt: "1" });
    await hub.submit("s", "ChatStartInference", { prompt: "2" });
    let snap = await hub.snapshot("s");
    expect(snap.entities.map((e) => [e.id, e.createdOrdinal, e.lastEventOrdinal])).toEqual([
      ["m1", 1n, 4n],
      ["m2", 5n, 8n],
    ]);
    const ordinal = await hub.publisher("s").publish("ChatMessageDeleted", { messageId: "m1" });
    expect(ordinal).toBe(9n);
    snap = await hub.snapshot("s");
    expect(snap.snapshotOrdinal).toBe(9n);
    expect(snap.entities.map((e) => e.id)).toEqual(["m2"]);
    const delta = await hub.snapshot("s", { changedAfter: 8n });
    expect(delta.entities.map((e) => [e.id, e.tombstone, e.lastEventOrdinal])).toEqual([["m1", true, 9n]]);
  });

  test("projections see a read-only view reflecting every earlier event", async () => {
    const reg = chatRegistry();
    const hub = new Hub({ registry: reg });
    const seen: Array<{ ordinal: bigint; viewOrdinal: bigint; count: number }> = [];
    hub.registerTimelineProjection((ev, _s, view) => {
      seen.push({ ordinal: ev.ordinal, viewOrdinal: view.ordinal, count: view.list("ChatMessage").length });
      expect(Object.isFrozen(view) || !("apply" in view)).toBe(true);
      return [{ kind: "ChatMessage", id: `e${ev.ordinal}`, payload: { text: String(ev.ordinal) } }];
    });
    const pub = hub.publisher("s");
    for (let i = 0; i < 4; i++) await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "x" });
    expect(seen).toEqual([
      { ordinal: 1n, viewOrdinal: 0n, count: 0 },
      { ordinal: 2n, viewOrdinal: 1n, count: 1 },
      { ordinal: 3n, viewOrdinal: 2n, count: 2 },
      { ordinal: 4n, viewOrdinal: 3n, count: 3 },
    ]);
  });

  test("session metadata factory runs once per session; sessions are created on first reference", async () => {
    let calls = 0;
    const hub = chatHub({ hubOptions: { sessionMetadata: async (id) => ({ owner: `user-of-${id}`, n: ++calls }) } });
    const seen: unknown[] = [];
    hub.registerUIProjection((_ev, session) => {
      seen.push(session.metadata);
      return [];
    });
    await hub.submit("s1", "ChatStartInference", { prompt: "x" });
    const s = await hub.session("s1");
    expect(s.id).toBe("s1");
    expect(s.metadata).toEqual({ owner: "user-of-s1", n: 1 });
    expect(calls).toBe(1);
    expect(new Set(seen.map((m) => JSON.stringify(m)))).toEqual(new Set([JSON.stringify({ owner: "user-of-s1", n: 1 })]));
  });

  test("a failing metadata factory rejects and is retried on the next reference", async () => {
    let fail = true;
    const hub = chatHub({ hubOptions: { sessionMetadata: () => {
      if (fail) throw new Error("directory offline");
      return { ok: true };
    } } });
    await expect(hub.session("s")).rejects.toThrow("directory offline");
    fail = false;
    expect((await hub.session("s")).metadata).toEqual({ ok: true });
  });
});

describe("Hub: validation errors", () => {
  const hub = chatHub();

  test.each([
    ["", "session id must be a non-empty string"],
    ["x".repeat(257), "session id of 257 characters exceeds maxSessionIdLength 256"],
    ["bad\nid", "session id must not contain control characters"],
    [".", 'session id "." is a URL dot-segment, which HTTP clients fold away; use another id (e.g. "dot")'],
    ["..", 'session id ".." is a URL dot-segment, which HTTP clients fold away; use another id (e.g. "dotdot")'],
  ])("session id %#", async (id, message) => {
    const err = await rejection(hub.submit(id, "ChatStartInference", { prompt: "x" }));
    expect(err.code).toBe("invalid_session_id");
    expect(err.message).toBe(message);
  });

  test("unknown command", async () => {
    const err = await rejection(hub.submit("s", "ChatStart" as never, { prompt: "x" } as never));
    expect(err.code).toBe("unknown_command");
    expect(err.message).toBe('unknown command "ChatStart" (registered: ChatStartInference, ChatStopInference)');
  });

  test("registered command without a handler is not implemented", async () => {
    const err = await rejection(hub.submit("s", "ChatStopInference", { messageId: "m" }));
    expect(err.code).toBe("not_implemented");
    expect(err.message).toBe('not implemented: no handler is registered for command "ChatStopInference"');
  });

  test("wrong payload type names both types", async () => {
    const err = await rejection(hub.submit("s", "ChatStartInference", create(TokensDeltaEventSchema, {}) as never));
    expect(err.code).toBe("payload_type_mismatch");
    expect(err.message).toBe('command "ChatStartInference" expects payload type chat.v1.StartInferenceCommand, got chat.v1.TokensDeltaEvent');
  });

  test("init object with an unknown field", async () => {
    const err = await rejection(hub.submit("s", "ChatStartInference", { promt: "x" } as never));
    expect(err.code).toBe("payload_type_mismatch");
    expect(err.message).toBe('command "ChatStartInference" (payload type chat.v1.StartInferenceCommand): field promt: no such field in chat.v1.StartInferenceCommand');
  });

  test("unknown event and wrong event payload from publish", async () => {
    const pub = hub.publisher("s");
    const unknown = await rejection(pub.publish("ChatNope" as never, {} as never));
    expect(unknown.code).toBe("unknown_event");
    expect(unknown.message).toMatch(/^unknown event "ChatNope" \(registered: ChatInferenceStarted, /);
    const wrong = await rejection(pub.publish("ChatTokensDelta", create(InferenceStartedEventSchema, {}) as never));
    expect(wrong.message).toBe('event "ChatTokensDelta" expects payload type chat.v1.TokensDeltaEvent, got chat.v1.InferenceStartedEvent');
  });

  test("handler already registered", () => {
    expect(() => hub.registerCommand("ChatStartInference", () => {})).toThrow(
      'a handler for command "ChatStartInference" is already registered',
    );
    expect(() => hub.registerCommand("Nope" as never, () => {})).toThrow('unknown command "Nope"');
  });

  test("a handler error rejects submit and reaches onError", async () => {
    const reports: RuntimeErrorReport[] = [];
    const h = new Hub({ registry: chatRegistry(), onError: (r) => void reports.push(r) });
    h.registerCommand("ChatStopInference", () => {
      throw new Error("model went away");
    });
    await expect(h.submit("s", "ChatStopInference", { messageId: "m" })).rejects.toThrow("model went away");
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ kind: "handler", sessionId: "s", commandName: "ChatStopInference" });
    expect(reports[0]!.error.message).toBe("model went away");
  });
});

describe("Hub: projection failure policies", () => {
  const chunkOf = (ev: { payload: unknown }) => (ev.payload as { chunk?: string }).chunk;
  function failingHub(policy: "fail" | "advance", family: "ui" | "timeline", onError?: (r: RuntimeErrorReport) => void) {
    const fanout = recordingFanout();
    const hub = new Hub({
      registry: chatRegistry(),
      fanout,
      projectionErrorPolicy: { [family]: policy },
      onError: onError ?? (() => {}),
    });
    hub.registerUIProjection((ev) => {
      if (family === "ui" && chunkOf(ev) === "2") throw new Error("ui boom");
      return [{ name: "ChatMessageAppended", payload: { chunk: String(ev.ordinal) } }];
    });
    hub.registerTimelineProjection((ev) => {
      if (family === "timeline" && chunkOf(ev) === "2") throw new Error("timeline boom");
      return [{ kind: "ChatMessage", id: `e${ev.ordinal}`, payload: { text: "t" } }];
    });
    return { hub, fanout };
  }

  test.each(["ui", "timeline"] as const)("fail (default): %s failure rejects publish and applies nothing", async (family) => {
    const reports: RuntimeErrorReport[] = [];
    const { hub, fanout } = failingHub("fail", family, (r) => void reports.push(r));
    const pub = hub.publisher("s");
    await pub.publish("ChatTokensDelta", { chunk: "1" });
    const err = await rejection(pub.publish("ChatTokensDelta", { chunk: "2" }));
    expect(err.code).toBe("projection_failed");
    const label = family === "ui" ? "UI" : "timeline";
    expect(err.message).toBe(`${label} projection failed for event "ChatTokensDelta" (ordinal 2) in session "s": ${family} boom`);
    expect(await hub.cursor("s")).toBe(1n);
    expect((await hub.snapshot("s")).entities.map((e) => e.id)).toEqual(["e1"]);
    expect(fanout.frames.map((f) => f.ordinal)).toEqual([1n]);
    expect(reports).toMatchObject([{ kind: `${family}_projection`, sessionId: "s", ordinal: 2n, eventName: "ChatTokensDelta" }]);
    // The ordinal was not consumed: the next event gets 2.
    expect(await pub.publish("ChatTokensDelta", { chunk: "3" })).toBe(2n);
  });

  test.each(["ui", "timeline"] as const)("advance: %s failure is recorded and the cursor advances", async (family) => {
    const { hub, fanout } = failingHub("advance", family);
    const pub = hub.publisher("s");
    await pub.publish("ChatTokensDelta", { chunk: "1" });
    expect(await pub.publish("ChatTokensDelta", { chunk: "2" })).toBe(2n);
    expect(await pub.publish("ChatTokensDelta", { chunk: "3" })).toBe(3n);
    expect(await hub.cursor("s")).toBe(3n);
    const ids = (await hub.snapshot("s")).entities.map((e) => e.id);
    expect(ids).toEqual(family === "timeline" ? ["e1", "e3"] : ["e1", "e2", "e3"]);
    expect(fanout.frames.map((f) => f.ordinal)).toEqual(family === "ui" ? [1n, 3n] : [1n, 2n, 3n]);
    expect((await hub.snapshot("s")).snapshotOrdinal).toBe(3n);
    const store = hub.store as unknown as { listErrors(s: string): Promise<Array<{ kind: string; ordinal: bigint; code: string }>> };
    expect(await store.listErrors("s")).toMatchObject([{ kind: `${family}_projection`, ordinal: 2n, code: "projection_failed" }]);
  });

  test("an undeclared UI event name or wrong entity payload from a projection is a projection failure", async () => {
    const hub = new Hub({ registry: chatRegistry(), onError: () => {} });
    hub.registerUIProjection(() => [{ name: "NotAUIEvent" as never, payload: {} as never }]);
    const err = await rejection(hub.publisher("s").publish("ChatTokensDelta", {}));
    expect(err.message).toMatch(/UI projection failed .*unknown UI event "NotAUIEvent"/);

    const hub2 = new Hub({ registry: chatRegistry(), onError: () => {} });
    hub2.registerTimelineProjection(() => [{ kind: "ChatMessage", id: "x", payload: create(StartInferenceCommandSchema) as never }]);
    const err2 = await rejection(hub2.publisher("s").publish("ChatTokensDelta", {}));
    expect(err2.message).toMatch(
      /timeline projection failed .*timeline entity "ChatMessage" expects payload type chat\.v1\.ChatMessageEntity, got chat\.v1\.StartInferenceCommand/,
    );
  });

  test("onError that throws cannot crash the hub; fanout errors do not reject publish", async () => {
    const hub = new Hub({
      registry: chatRegistry(),
      onError: () => {
        throw new Error("observer exploded");
      },
      fanout: {
        publishUI: () => {
          throw new Error("socket layer down");
        },
      },
    });
    hub.registerUIProjection(() => [{ name: "ChatMessageAppended", payload: {} }]);
    expect(await hub.publisher("s").publish("ChatTokensDelta", {})).toBe(1n);
  });
});

describe("Hub: concurrency and ordering", () => {
  test("interleaved handlers on one session: strictly increasing ordinals, each projection sees all earlier events", async () => {
    const reg = chatRegistry();
    const hub = new Hub({ registry: reg });
    const projected: bigint[] = [];
    hub.registerTimelineProjection(async (ev, _s, view) => {
      // Yield inside the projection to invite interleaving.
      await new Promise((r) => setTimeout(r, Math.random() * 2));
      expect(view.ordinal).toBe(ev.ordinal - 1n);
      expect(view.list("ChatMessage")).toHaveLength(Number(ev.ordinal - 1n));
      projected.push(ev.ordinal);
      return [{ kind: "ChatMessage", id: `e${ev.ordinal}`, payload: create(ChatMessageEntitySchema, { text: ev.name }) }];
    });
    hub.registerCommand("ChatStartInference", async (cmd, _s, pub) => {
      const acks = [];
      // Detached-style: fire several publishes without awaiting each.
      for (let i = 0; i < 10; i++) acks.push(pub.publish("ChatTokensDelta", { messageId: cmd.payload.prompt, chunk: String(i) }));
      const ords = await Promise.all(acks);
      for (let i = 1; i < ords.length; i++) expect(ords[i]! > ords[i - 1]!).toBe(true);
    });
    await Promise.all([1, 2, 3].map((n) => hub.submit("s", "ChatStartInference", { prompt: `h${n}` })));
    expect(projected).toEqual(Array.from({ length: 30 }, (_, i) => BigInt(i + 1)));
    expect(await hub.cursor("s")).toBe(30n);
    expect((await hub.snapshot("s")).entities).toHaveLength(30);
  });

  test("many sessions concurrently: each has its own dense ordinal sequence", async () => {
    const fanout = recordingFanout();
    const hub = chatHub({ fanout, tokens: ["a", "b", "c"] });
    const ids = Array.from({ length: 50 }, (_, i) => `s${i}`);
    await Promise.all(ids.flatMap((id) => [hub.submit(id, "ChatStartInference", { prompt: "1" }), hub.submit(id, "ChatStartInference", { prompt: "2" })]));
    for (const id of ids) {
      const ords = fanout.frames.filter((f) => f.sessionId === id).map((f) => f.ordinal);
      expect(ords).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i + 1)));
      expect(await hub.cursor(id)).toBe(10n);
    }
  });

  test("publish resolves only after the event is applied", async () => {
    const hub = chatHub();
    const pub = hub.publisher("s");
    const ordinal = await pub.publish("ChatInferenceStarted", { messageId: "m", prompt: "p" });
    // Read straight from the store: the entity is there when publish resolves.
    expect((await hub.store.snapshot("s")).entities.map((e) => [e.id, e.lastEventOrdinal])).toEqual([["m", ordinal]]);
  });
});

describe("Hub: typed API", () => {
  test("names and payloads are type-checked from the registry (compile-time; run-time checks agree)", async () => {
    const reg = new SchemaRegistry().registerCommand("Start", StartInferenceCommandSchema).registerEvent("Delta", TokensDeltaEventSchema);
    const hub = new Hub({ registry: reg });
    hub.registerCommand("Start", async (cmd, _s, pub) => {
      const prompt: string = cmd.payload.prompt;
      await pub.publish("Delta", { chunk: prompt });
      // @ts-expect-error: unknown event name
      await pub.publish("Nope", {}).catch(() => {});
      // @ts-expect-error: wrong field for the Delta payload
      await pub.publish("Delta", { prompt: "x" }).catch(() => {});
    });
    // @ts-expect-error: wrong payload field for Start
    await hub.submit("s", "Start", { chunk: "x" }).catch(() => {});
    await hub.submit("s", "Start", { prompt: "typed" });
    expect(await hub.cursor("s")).toBe(1n);
  });
});

describe("Hub: rebuildTimeline", () => {
  test("replays the event log and reproduces the snapshot exactly", async () => {
    const hub = chatHub({ tokens: ["x", "y"] });
    await hub.submit("s", "ChatStartInference", { prompt: "a" });
    await hub.submit("s", "ChatStartInference", { prompt: "b" });
    await hub.publisher("s").publish("ChatMessageDeleted", { messageId: "m1" });
    const before = await hub.snapshot("s");
    const rebuilt = await hub.rebuildTimeline("s");
    expect(rebuilt).toEqual({ ...before, epoch: 2n });
    // Events after a rebuild continue from the cursor.
    expect(await hub.publisher("s").publish("ChatMessageDeleted", { messageId: "m2" })).toBe(10n);
    expect((await hub.snapshot("s")).entities).toEqual([]);
  });

  test("needs the event log capability", async () => {
    const bare = { apply: async () => {}, snapshot: async (sessionId: string) => ({ sessionId, snapshotOrdinal: 0n, entities: [] }), view: async () => { throw new Error(); }, cursor: async () => 0n };
    const hub = new Hub({ registry: chatRegistry(), store: bare });
    const err = await rejection(hub.rebuildTimeline("s"));
    expect(err.code).toBe("capability_missing");
  });
});

describe("Hub: bounded memory", () => {
  test("caches at most maxCachedSessions session states; an evicted session reloads from the store and continues", async () => {
    const hub = chatHub({ tokens: ["a", "b"], hubOptions: { maxCachedSessions: 3 } });
    for (let i = 0; i < 10; i++) await hub.submit(`s${i}`, "ChatStartInference", { prompt: String(i) });
    expect(hub.cachedSessionCount()).toBe(3);
    // s0 was evicted long ago: its next event continues its ordinals and its timeline.
    expect(await hub.publisher("s0").publish("ChatTokensDelta", { messageId: "m1", chunk: "c" })).toBe(5n);
    const text = ((await hub.snapshot("s0")).entities[0]!.payload as unknown as { text: string }).text;
    expect(text).toBe("abc");
    expect(hub.cachedSessionCount()).toBe(3);
  });
});

describe("Hub: a synchronous store write that fails", () => {
  // The memory store applies synchronously (applyNow): on a cached session the
  // event is applied inside publish, and a failed write rejects that publish
  // while the events published after it wait, then continue from the store's cursor.
  test("on a cached session: store_failed, nothing delivered, the next event gets the same ordinal", async () => {
    let failNext = false;
    class FlakyStore extends MemoryHydrationStore {
      override applyNow(batch: ApplyBatch): void {
        if (failNext) {
          failNext = false;
          throw new Error("disk full");
        }
        super.applyNow(batch);
      }
    }
    const fanout = recordingFanout();
    const reports: RuntimeErrorReport[] = [];
    const hub = new Hub({ registry: chatRegistry(), store: new FlakyStore(), fanout, onError: (r) => void reports.push(r) });
    hub.registerUIProjection((ev) => [{ name: "ChatMessageAppended", payload: { chunk: String(ev.ordinal) } }]);
    const pub = hub.publisher("s");
    expect(await pub.publish("ChatTokensDelta", { chunk: "a" })).toBe(1n);
    failNext = true;
    const failed = pub.publish("ChatTokensDelta", { chunk: "b" });
    const next = pub.publish("ChatTokensDelta", { chunk: "c" });
    const err = await rejection(failed);
    expect(err.code).toBe("store_failed");
    expect(err.message).toContain("disk full");
    expect(await next).toBe(2n);
    expect(fanout.frames.map((f) => f.ordinal)).toEqual([1n, 2n]);
    expect(reports).toMatchObject([{ kind: "store", sessionId: "s", ordinal: 2n }]);
    expect(await hub.cursor("s")).toBe(2n);
  });
});

describe("Hub: async projections", () => {
  test("on a cached session, an event whose projection turns async holds back the events published after it", async () => {
    const hub = new Hub({ registry: chatRegistry() });
    const seen: Array<[bigint, string[]]> = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    hub.registerTimelineProjection((ev, _session, view) => {
      seen.push([ev.ordinal, view.list("ChatMessage").map((e) => e.id)]);
      const out = [{ kind: "ChatMessage" as const, id: `m${ev.ordinal}`, payload: { text: String(ev.ordinal) } }];
      // Synchronous, except for the "slow" event.
      return (ev.payload as { chunk?: string }).chunk === "slow" ? gate.then(() => out) : out;
    });
    const pub = hub.publisher("s");
    // The session's state is cached after this: the next publish starts on the synchronous path.
    expect(await pub.publish("ChatTokensDelta", { chunk: "warm" })).toBe(1n);
    const settled: string[] = [];
    const slow = pub.publish("ChatTokensDelta", { chunk: "slow" }).then((o) => (settled.push("slow"), o));
    const fast = pub.publish("ChatTokensDelta", { chunk: "fast" }).then((o) => (settled.push("fast"), o));
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toEqual([]);
    expect(seen.map(([ordinal]) => ordinal)).toEqual([1n, 2n]);
    release();
    expect(await fast).toBe(3n);
    expect(await slow).toBe(2n);
    expect(settled).toEqual(["slow", "fast"]);
    expect(seen).toEqual([
      [1n, []],
      [2n, ["m1"]],
      [3n, ["m1", "m2"]],
    ]);
    expect((await hub.snapshot("s")).snapshotOrdinal).toBe(3n);
  });

  test.each(["fail", "advance"] as const)("an async projection failing under %s behaves like a sync one", async (policy) => {
    const hub = new Hub({ registry: chatRegistry(), projectionErrorPolicy: { timeline: policy }, onError: () => {} });
    hub.registerTimelineProjection(async (ev) => [{ kind: "ChatMessage", id: `a${ev.ordinal}`, payload: { text: "first" } }]);
    hub.registerTimelineProjection(async (ev) => {
      await new Promise((r) => setTimeout(r, 1));
      if ((ev.payload as { chunk?: string }).chunk === "bad") throw new Error("async boom");
      return [{ kind: "ChatMessage", id: `b${ev.ordinal}`, payload: { text: "second" } }];
    });
    const pub = hub.publisher("s");
    await pub.publish("ChatTokensDelta", { chunk: "ok" });
    const outcome = await pub.publish("ChatTokensDelta", { chunk: "bad" }).then(
      (ordinal) => ordinal,
      (err: SessionstreamError) => err.code,
    );
    const ids = (await hub.snapshot("s")).entities.map((e) => e.id);
    if (policy === "fail") {
      expect(outcome).toBe("projection_failed");
      expect(ids).toEqual(["a1", "b1"]);
    } else {
      // The whole family's output of that event is dropped, not just the failing projection's.
      expect(outcome).toBe(2n);
      expect(ids).toEqual(["a1", "b1"]);
    }
  });
});
