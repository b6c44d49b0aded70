// Typed resume with epochs (DESIGN section 9): every subscription of a client
// that opted in (`resume=delta`) says how it was satisfied (recovered,
// snapshot, reset) and carries the timeline epoch; a delta is never sent
// across a timeline rebuild; reference clients see no change.
import { afterEach, describe, expect, it } from "vitest";
import { connect, startHarness, type Harness, type TestSocket } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

type SnapshotJson = {
  sessionId: string;
  snapshotOrdinal?: string;
  changedAfterOrdinal?: string;
  epoch?: string;
  resume?: string;
  resync?: boolean;
  entities?: Array<{ id: string; tombstone?: boolean; payload: { text?: string } }>;
};

/** Subscribes and returns the snapshot frame's JSON once `subscribed` arrived. */
async function resubscribe(c: TestSocket, frame: Record<string, unknown>): Promise<SnapshotJson> {
  const from = c.frames.length;
  c.send({ subscribe: { sessionId: "s", ...frame } });
  await c.next((r) => r.frame.frame.case === "subscribed", from);
  const snap = c.frames.slice(from).find((r) => r.frame.frame.case === "snapshot");
  return (snap!.json as { snapshot: SnapshotJson }).snapshot;
}

describe("typed resume with epochs (websocket)", () => {
  it("tells an opted-in client recovered, snapshot or reset, with the epoch, and never sends a delta across a rebuild", async () => {
    h = await startHarness();
    await h.hub.submit("s", "ChatStartInference", { prompt: "one" }); // m1: 1..5
    await h.hub.submit("s", "ChatStartInference", { prompt: "two" }); // m2: 6..10
    const c = await connect(h.url + "?resume=delta");

    const first = await resubscribe(c, {});
    expect(first).toMatchObject({ snapshotOrdinal: "10", epoch: "1", resume: "RESUME_KIND_SNAPSHOT" });
    expect(first).not.toHaveProperty("changedAfterOrdinal");
    expect(first).not.toHaveProperty("resync");

    const recovered = await resubscribe(c, { sinceSnapshotOrdinal: "5", epoch: "1" });
    expect(recovered).toMatchObject({ changedAfterOrdinal: "5", epoch: "1", resume: "RESUME_KIND_RECOVERED" });
    expect(recovered.entities!.map((e) => e.id)).toEqual(["m2"]);
    expect(h.records.filter((r) => r.type === "subscribed").map((r) => r.resume)).toEqual(["snapshot", "recovered"]);

    // The timeline is rebuilt: entities keep their ordinals, so a delta from 10 would hold nothing.
    await h.hub.rebuildTimeline("s");
    const reset = await resubscribe(c, { sinceSnapshotOrdinal: "10", epoch: "1" });
    expect(reset).toMatchObject({ snapshotOrdinal: "10", epoch: "2", resume: "RESUME_KIND_RESET" });
    expect(reset).not.toHaveProperty("changedAfterOrdinal");
    expect(reset.entities!.map((e) => e.id)).toEqual(["m1", "m2"]);

    // A delta client that does not send an epoch is taken to hold the first one.
    const legacy = await resubscribe(c, { sinceSnapshotOrdinal: "10" });
    expect(legacy).toMatchObject({ epoch: "2", resume: "RESUME_KIND_RESET" });
    expect(legacy.entities!.map((e) => e.id)).toEqual(["m1", "m2"]);

    // In the new epoch, deltas resume again.
    await h.hub.submit("s", "ChatStartInference", { prompt: "three" }); // m3: 11..15
    const again = await resubscribe(c, { sinceSnapshotOrdinal: "10", epoch: "2" });
    expect(again).toMatchObject({ changedAfterOrdinal: "10", epoch: "2", resume: "RESUME_KIND_RECOVERED" });
    expect(again.entities!.map((e) => e.id)).toEqual(["m3"]);

    // Ahead of the server (store wiped, another deployment): a full snapshot, not a reset.
    const ahead = await resubscribe(c, { sinceSnapshotOrdinal: "99", epoch: "2" });
    expect(ahead).toMatchObject({ epoch: "2", resume: "RESUME_KIND_SNAPSHOT" });
    expect(ahead.entities!.map((e) => e.id)).toEqual(["m1", "m2", "m3"]);
    c.close();
  });

  it("shows a reference client no extension field, before or after a rebuild", async () => {
    h = await startHarness();
    await h.hub.submit("s", "ChatStartInference", { prompt: "one" });
    await h.hub.rebuildTimeline("s");
    const c = await connect(h.url);
    const full = await resubscribe(c, {});
    expect(Object.keys(full)).toEqual(["sessionId", "snapshotOrdinal", "entities"]);
    const resumed = await resubscribe(c, { sinceSnapshotOrdinal: "3" });
    expect(Object.keys(resumed)).toEqual(["sessionId", "snapshotOrdinal", "entities"]);
    expect(c.frames.at(-1)!.json).toEqual({ subscribed: { sessionId: "s", sinceSnapshotOrdinal: "3" } });
    c.close();
  });

  it("a rebuild sends live opted-in subscribers a reset snapshot on their connection (the hub calls the fanout's timelineRebuilt); reference clients see nothing", async () => {
    h = await startHarness();
    await h.hub.submit("s", "ChatStartInference", { prompt: "one" }); // m1: 1..5
    const delta = await connect(h.url + "?resume=delta");
    const reference = await connect(h.url);
    await resubscribe(delta, {});
    await resubscribe(reference, {});
    const before = [delta.frames.length, reference.frames.length] as const;

    await h.hub.rebuildTimeline("s");
    await delta.next((r) => r.frame.frame.case === "subscribed", before[0]);
    const reset = delta.frames.slice(before[0]).map((r) => r.json);
    expect(reset).toHaveLength(2);
    expect(reset[0]).toMatchObject({ snapshot: { snapshotOrdinal: "5", epoch: "2", resume: "RESUME_KIND_RESET", entities: [{ id: "m1" }] } });
    expect(reset[0]!.snapshot).not.toHaveProperty("changedAfterOrdinal");

    // Live again: the next event reaches both, and the reference client got nothing else.
    await h.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m1", chunk: "!" });
    await delta.next((r) => r.frame.frame.case === "uiEvent", before[0]);
    await reference.next((r) => r.frame.frame.case === "uiEvent", before[1]);
    expect(reference.cases().slice(before[1])).toEqual(["uiEvent"]);
    delta.close();
    reference.close();
  });

  it("a reset snapshot that fails to load becomes a snapshot_failed error frame without the store's message", async () => {
    h = await startHarness();
    await h.hub.submit("s", "ChatStartInference", { prompt: "one" });
    const delta = await connect(h.url + "?resume=delta");
    await resubscribe(delta, {});
    const from = delta.frames.length;
    h.hub.snapshot = () => Promise.reject(new TypeError("db password=hunter2 is wrong"));
    h.ws.timelineRebuilt("s");
    await delta.next((r) => r.frame.frame.case === "error", from);
    const error = delta.frames.slice(from).find((r) => r.frame.frame.case === "error")!.json as { error: { code: string; message: string } };
    expect(error.error.code).toBe("snapshot_failed");
    expect(error.error.message).toMatch(/^internal error \(errorId [0-9a-f-]{36}\)$/);
    delta.close();
  });
});

