// The consistency oracle of sessionstream/testing: a correct app passes at
// every ordinal and every simulated resume; a drifting projection pair, a
// drifting reducer and a store whose deltas lose deletions are each caught
// at the ordinal where they go wrong, naming the event, entity and field.
import { describe, expect, test } from "vitest";
import { MemoryHydrationStore, type HydrationStore, type Snapshot, type SnapshotOptions } from "../../src/index.js";
import { createTestHub, LiveSnapshotMismatchError, type TimelineDraft, type ClientUIEvent, type UIReducer } from "../../src/testing/index.js";
import { chatHub, type ChatAppOptions } from "../helpers/chat-app.js";

/** The page's reducer for the chat helper's UI events (protobuf JSON payloads, empty fields left out). */
const reduce: UIReducer = (draft: TimelineDraft, event: ClientUIEvent) => {
  const p = event.payload as { messageId: string; chunk?: string; status?: string; role?: string };
  const current = (draft.get("ChatMessage", p.messageId)?.payload ?? { messageId: p.messageId }) as Record<string, string>;
  switch (event.name) {
    case "ChatMessageStarted":
      return draft.set("ChatMessage", p.messageId, { messageId: p.messageId, role: p.role ?? "", status: p.status ?? "" });
    case "ChatMessageAppended":
      return draft.set("ChatMessage", p.messageId, { ...current, text: (current["text"] ?? "") + (p.chunk ?? "") });
    case "ChatMessageFinished":
      return draft.set("ChatMessage", p.messageId, { ...current, status: p.status ?? "" });
    case "ChatMessageDeleted":
      return draft.delete("ChatMessage", p.messageId);
  }
};

/** Two answers, the first deleted: creation, updates and a tombstone. */
async function conversation(app: (o: ChatAppOptions) => ReturnType<typeof chatHub>, store?: HydrationStore) {
  const t = await createTestHub(app, store ? { store } : {});
  await t.submit("s1", "ChatStartInference", { prompt: "one" });
  await t.submit("s1", "ChatStartInference", { prompt: "two" });
  await t.hub.publisher("s1").publish("ChatMessageDeleted", { messageId: "m1" });
  await t.settle({ quietMs: 5 });
  return t;
}

describe("expectLiveMatchesSnapshot", () => {
  test("a consistent app passes at every ordinal, live and across full and delta resumes", async () => {
    const t = await conversation(chatHub);
    const report = await t.expectLiveMatchesSnapshot("s1", { reduce });
    expect(report.events).toBe(11);
    expect(report.driftCount).toBe(0);
    // The live page is checked at all 11 ordinals, plus resumed pages (both modes, from the replay and the store).
    expect(report.scenarios).toBeGreaterThan(40);
    expect(report.checks).toBeGreaterThan(11 * 4);
    expect(report.drifts).toEqual([]);
  });

  test("a timeline projection that drops a chunk is caught at that ordinal, naming event, entity and field", async () => {
    // The UI projection streams every chunk; the timeline projection forgets "order " (the chunk of ordinal 3).
    const drifting = (o: ChatAppOptions) => {
      const hub = chatHub(o);
      hub.registerTimelineProjection((ev, _s, view) => {
        if (ev.name !== "ChatTokensDelta" || ev.payload.chunk !== "order ") return [];
        const prev = view.get("ChatMessage", ev.payload.messageId)!.payload as unknown as { text: string };
        return [{ kind: "ChatMessage", id: ev.payload.messageId, payload: { messageId: ev.payload.messageId, role: "assistant", status: "streaming", text: prev.text } }];
      });
      return hub;
    };
    const t = await conversation(drifting);
    const err = await t.expectLiveMatchesSnapshot("s1", { reduce, faults: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LiveSnapshotMismatchError);
    const first = (err as LiveSnapshotMismatchError).report.drifts[0]!;
    expect(first).toMatchObject({ ordinal: 3n, eventName: "ChatTokensDelta", kind: "ChatMessage", id: "m1", path: "text", live: "Ordinals order ", snapshot: "Ordinals " });
    expect((err as Error).message).toContain('ordinal 3 (event "ChatTokensDelta"): ChatMessage "m1" field text: live "Ordinals order " vs snapshot "Ordinals " [live from ordinal 0]');
  });

  test("a reducer that forgets a field is caught at the first event it mishandles", async () => {
    const forgetful: UIReducer = (draft, event) => {
      if (event.name !== "ChatMessageFinished") reduce(draft, event);
    };
    const t = await conversation(chatHub);
    const report = await t.checkLiveMatchesSnapshot("s1", { reduce: forgetful, faults: false });
    expect(report.drifts[0]).toMatchObject({ ordinal: 5n, eventName: "ChatInferenceFinished", kind: "ChatMessage", id: "m1", path: "status", live: "streaming", snapshot: "finished" });
  });

  test("a reducer that throws fails the page at that ordinal", async () => {
    const t = await conversation(chatHub);
    const report = await t.checkLiveMatchesSnapshot("s1", {
      reduce: (d, e) => {
        if (e.ordinal === 4n) throw new Error("boom");
        reduce(d, e);
      },
      faults: false,
    });
    expect(report.drifts[0]!.ordinal).toBe(4n);
    expect(report.drifts[0]!.message).toContain("the page failed");
    expect(report.drifts[0]!.message).toContain("boom");
  });

  test("a store whose deltas lose deletions passes live and full resumes but fails delta resumes", async () => {
    // Deltas without tombstones: a page that was away when m1 was deleted keeps it forever.
    class NoTombstoneDeltas extends MemoryHydrationStore {
      override async snapshot(sessionId: string, options?: SnapshotOptions): Promise<Snapshot> {
        const snap = await super.snapshot(sessionId, options);
        return options?.changedAfter ? { ...snap, entities: snap.entities.filter((e) => !e.tombstone) } : snap;
      }
    }
    const t = await conversation(chatHub, new NoTombstoneDeltas());
    await t.expectLiveMatchesSnapshot("s1", { reduce, faults: false });
    await t.expectLiveMatchesSnapshot("s1", { reduce, faults: { modes: ["full"] } });
    const report = await t.checkLiveMatchesSnapshot("s1", { reduce, faults: { modes: ["delta"] } });
    expect(report.driftCount).toBeGreaterThan(0);
    expect(report.drifts.every((d) => d.scenario.startsWith("delta resume from the store"))).toBe(true);
    expect(report.drifts[0]).toMatchObject({ ordinal: 11n, kind: "ChatMessage", id: "m1", path: "", snapshot: undefined });
    expect(report.drifts[0]!.message).toContain('ChatMessage "m1" (missing from the snapshot)');
  });

  test("a projection that reads outside state does not replay: the replayed timeline differs from the stored one", async () => {
    let calls = 0;
    const impure = (o: ChatAppOptions) => {
      const hub = chatHub(o);
      hub.registerTimelineProjection((ev) => (ev.name === "ChatInferenceFinished" ? [{ kind: "ChatMessage", id: "counter", payload: { messageId: "counter", text: String(++calls) } }] : []));
      return hub;
    };
    const t = await conversation(impure);
    const report = await t.checkLiveMatchesSnapshot("s1", { reduce: (d, e) => reduce(d, e), faults: false });
    const replay = report.drifts.find((d) => d.scenario === "replay");
    expect(replay).toMatchObject({ kind: "ChatMessage", id: "counter", path: "text", live: "4", snapshot: "2" });
  });

  test("without an event log the oracle says what it needs", async () => {
    const t = await createTestHub(chatHub);
    const bare = { ...t.hub, store: {} } as unknown as typeof t.hub;
    await expect(import("../../src/testing/index.js").then((m) => m.checkLiveMatchesSnapshot(bare, "s1", { reduce }))).rejects.toThrow(/needs a store with an event log/);
  });
});

describe("createTestHub", () => {
  test("records UI events with ordinals, uses a fixed clock, waits for events and settles", async () => {
    const t = await createTestHub(chatHub, { clockStart: 1000 });
    await t.submit("s1", "ChatStartInference", { prompt: "x" });
    const finished = await t.waitForEvent("s1", "ChatInferenceFinished");
    expect(finished.event.ordinal).toBe(5n);
    await t.settle({ quietMs: 5 });
    expect(t.uiEvents("s1").map((e) => [e.ordinal, e.name])).toEqual([
      [1n, "ChatMessageStarted"],
      [2n, "ChatMessageAppended"],
      [3n, "ChatMessageAppended"],
      [4n, "ChatMessageAppended"],
      [5n, "ChatMessageFinished"],
    ]);
    expect((await t.events("s1")).map((e) => e.appliedAt)).toEqual([1000, 1001, 1002, 1003, 1004]);
    expect((await t.snapshot("s1")).snapshotOrdinal).toBe(5n);
    await expect(t.waitForEvent("s1", "ChatMessageDeleted", { timeoutMs: 20 })).rejects.toThrow(/no "ChatMessageDeleted" in session "s1" within 20 ms/);
    await t.close();
  });
});
