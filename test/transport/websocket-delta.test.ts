import { afterEach, describe, expect, it } from "vitest";
import { connect, startHarness, type Harness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("delta snapshots (opt-in extension)", () => {
  it("sends only entities changed after since_snapshot_ordinal, tombstones included, to a client that opted in", async () => {
    h = await startHarness();
    await h.hub.submit("s", "ChatStartInference", { prompt: "one" }); // m1: 1..5
    await h.hub.submit("s", "ChatStartInference", { prompt: "two" }); // m2: 6..10
    await h.hub.publisher("s").publish("ChatMessageDeleted", { messageId: "m1" }); // 11
    await h.hub.submit("s", "ChatStartInference", { prompt: "three" }); // m3: 12..16

    const c = await connect(h.url + "?resume=delta");
    c.subscribe("s", 10n);
    await c.nextCase("subscribed");
    const snap = c.frames[1]!.json as { snapshot: { snapshotOrdinal: string; changedAfterOrdinal: string; entities: Array<Record<string, unknown>> } };
    expect(snap.snapshot.snapshotOrdinal).toBe("16");
    expect(snap.snapshot.changedAfterOrdinal).toBe("10");
    expect(snap.snapshot.entities.map((e) => [e.id, e.tombstone ?? false])).toEqual([
      ["m1", true],
      ["m3", false],
    ]);

    // since = 0: a full snapshot, no tombstones, no changedAfterOrdinal.
    c.subscribe("s");
    await c.next((r) => r.frame.frame.case === "subscribed", 3);
    const full = c.frames[3]!.json as { snapshot: { entities: Array<Record<string, unknown>> } };
    expect(full.snapshot).not.toHaveProperty("changedAfterOrdinal");
    expect(full.snapshot.entities.map((e) => e.id)).toEqual(["m2", "m3"]);

    // A client ahead of the server (store wiped, another deployment) gets a full snapshot.
    c.subscribe("s", 99n);
    await c.next((r) => r.frame.frame.case === "subscribed", 5);
    const reset = c.frames[5]!.json as { snapshot: { entities: Array<Record<string, unknown>> } };
    expect(reset.snapshot).not.toHaveProperty("changedAfterOrdinal");
    expect(reset.snapshot.entities.map((e) => e.id)).toEqual(["m2", "m3"]);
    c.close();
  });

  it("ignores since_snapshot_ordinal for clients that did not opt in (reference clients see no difference)", async () => {
    h = await startHarness();
    await h.hub.submit("s", "ChatStartInference", { prompt: "one" });
    await h.hub.submit("s", "ChatStartInference", { prompt: "two" });
    const c = await connect(h.url);
    c.subscribe("s", 5n);
    await c.nextCase("subscribed");
    const snap = c.frames[1]!.json as { snapshot: { entities: Array<Record<string, unknown>> } };
    expect(snap.snapshot).not.toHaveProperty("changedAfterOrdinal");
    expect(snap.snapshot.entities.map((e) => e.id)).toEqual(["m1", "m2"]);
    c.close();
  });
});
