// The same contract, run against every shipped store.
import { create } from "@bufbuild/protobuf";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MemoryHydrationStore, type HydrationStore, type TimelineEntity } from "../../src/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import { ChatMessageEntitySchema, TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { chatRegistry } from "../helpers/chat-app.js";

const dir = mkdtempSync(join(tmpdir(), "ss-contract-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stores: Array<[string, () => MemoryHydrationStore | SqliteHydrationStore]> = [
  ["memory", () => new MemoryHydrationStore({ pageSize: 2 })],
  ["sqlite", () => new SqliteHydrationStore({ path: join(dir, `${Math.random()}.sqlite`), registry: chatRegistry(), pageSize: 2 })],
];

function entity(id: string, created: bigint, last: bigint, text: string, tombstone = false): TimelineEntity {
  return { kind: "ChatMessage", id, createdOrdinal: created, lastEventOrdinal: last, tombstone, payload: create(ChatMessageEntitySchema, { messageId: id, text }) };
}
function event(ordinal: bigint) {
  return { sessionId: "s", ordinal, name: "ChatTokensDelta", payload: create(TokensDeltaEventSchema, { chunk: String(ordinal) }), appliedAt: 1000 + Number(ordinal) };
}

describe.each(stores)("%s store contract", (_name, make) => {
  test("apply, cursor, snapshot order, delta with tombstones, event paging, errors", async () => {
    const store: HydrationStore & MemoryHydrationStore = make() as never;
    expect(await store.cursor("s")).toBe(0n);
    await store.apply({ sessionId: "s", ordinal: 1n, event: event(1n), entities: [entity("b", 1n, 1n, "b1")] });
    await store.apply({ sessionId: "s", ordinal: 2n, event: event(2n), entities: [entity("a", 2n, 2n, "a2")] });
    await store.apply({ sessionId: "s", ordinal: 3n, event: event(3n), entities: [entity("b", 1n, 3n, "b3"), entity("a", 2n, 3n, "a2", true)] });
    expect(await store.cursor("s")).toBe(3n);

    const full = await store.snapshot("s");
    expect(full.snapshotOrdinal).toBe(3n);
    expect(full.entities.map((e) => [e.id, e.createdOrdinal, e.lastEventOrdinal, (e.payload as unknown as { text: string }).text])).toEqual([["b", 1n, 3n, "b3"]]);
    const delta = await store.snapshot("s", { changedAfter: 2n });
    expect(delta.entities.map((e) => [e.id, e.tombstone])).toEqual([["b", false], ["a", true]]);

    const view = await store.view("s");
    expect(view.get("ChatMessage", "a")).toBeUndefined();
    expect(view.list("ChatMessage").map((e) => e.id)).toEqual(["b"]);

    expect((await store.readEvents("s", 0n)).map((e) => e.ordinal)).toEqual([1n, 2n]);
    expect((await store.readEvents("s", 2n)).map((e) => [e.ordinal, e.appliedAt])).toEqual([[3n, 1003]]);

    await store.recordError({ sessionId: "s", ordinal: 2n, eventName: "X", kind: "ui_projection", code: "projection_failed", message: "m", recordedAt: 5 });
    await store.recordError({ sessionId: "t", kind: "store", code: "store_failed", message: "n", recordedAt: 6 });
    expect(await store.listErrors("s")).toEqual([{ sessionId: "s", ordinal: 2n, eventName: "X", kind: "ui_projection", code: "projection_failed", message: "m", recordedAt: 5 }]);
    expect((await store.listErrors()).map((e) => e.sessionId)).toEqual(["s", "t"]);

    await store.resetTimeline("s");
    expect((await store.snapshot("s")).entities).toEqual([]);
    expect(await store.timelineCursor("s")).toBe(0n);
    expect(await store.cursor("s")).toBe(3n);
    // Replay writes (no event) move the timeline cursor only.
    await store.apply({ sessionId: "s", ordinal: 1n, entities: [entity("b", 1n, 1n, "b1")] });
    expect(await store.timelineCursor("s")).toBe(1n);
    expect(await store.cursor("s")).toBe(3n);
    await store.close();
  });
});
