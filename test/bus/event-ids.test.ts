// Event ids (the cluster bus's idempotency keys) on the real PostgreSQL:
// the store's EventIdStore capability and the hub's use of it through the
// ClusterEventBus seam. Skipped with a printed reason without PostgreSQL.
import { create } from "@bufbuild/protobuf";
import { afterAll, describe, expect, test } from "vitest";
import { type ClusterEventBus, type ClusterHubLink } from "../../src/index.js";
import { PostgresHydrationStore } from "../../src/store/postgres/index.js";
import { TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { chatHub, chatRegistry } from "../helpers/chat-app.js";
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";

const pgSkip = await postgresUnavailable();
const schemas = new Set<string>();
afterAll(async () => {
  if (!pgSkip) await dropSchemas(schemas);
});
function open() {
  const schema = freshSchema();
  schemas.add(schema);
  return new PostgresHydrationStore({ connectionString: PG_URL, schema, registry: chatRegistry() });
}
const delta = (chunk: string) => create(TokensDeltaEventSchema, { messageId: "m", chunk });

/** A bus that hands events to the hub's cluster link itself, so a test can redeliver one. */
class LinkBus implements ClusterEventBus {
  link: ClusterHubLink | undefined;
  attachHub(link: ClusterHubLink) {
    this.link = link;
    return () => (this.link = undefined);
  }
  consume(): () => void {
    throw new Error("unused");
  }
  publish(): Promise<bigint> {
    throw new Error("unused");
  }
}

describe.skipIf(pgSkip !== undefined)("event ids on the PostgreSQL store", () => {
  test("lookupEvent reads the cursor and an id's ordinal; a known id is refused at another ordinal and a no-op at its own", async () => {
    const store = open();
    try {
      expect(await store.lookupEvent("s", "e1")).toEqual({ cursor: 0n, ordinal: undefined });
      const event = { sessionId: "s", ordinal: 1n, name: "ChatTokensDelta", payload: delta("a"), appliedAt: 1, eventId: "e1" };
      await store.apply({ sessionId: "s", ordinal: 1n, event, entities: [] });
      expect(await store.lookupEvent("s", "e1")).toEqual({ cursor: 1n, ordinal: 1n });
      // Redelivered at its own ordinal: nothing changes.
      await store.apply({ sessionId: "s", ordinal: 1n, event, entities: [] });
      // The same id at another ordinal: refused, the cursor stays.
      await expect(store.apply({ sessionId: "s", ordinal: 2n, event: { ...event, ordinal: 2n }, entities: [] })).rejects.toThrow(
        'session "s" already has event id "e1" at ordinal 1, not 2',
      );
      // Same content, another id, at a taken ordinal: a conflict, not a redelivery.
      await expect(store.apply({ sessionId: "s", ordinal: 1n, event: { ...event, eventId: "e2" }, entities: [] })).rejects.toThrow(
        "two writers assigned the same ordinal",
      );
      expect(await store.cursor("s")).toBe(1n);
      // The log carries the id (a replay or an audit can tell bus deliveries apart).
      expect((await store.readEvents("s", 0n)).map((e) => [e.ordinal, e.eventId])).toEqual([[1n, "e1"]]);
    } finally {
      await store.close();
    }
  });

  test("a hub applies a redelivered event id once: the second delivery is a duplicate with the first ordinal and fans out nothing", async () => {
    const store = open();
    const bus = new LinkBus();
    const fanned: bigint[] = [];
    const hub = chatHub({ store, hubOptions: { bus, onError: () => {} }, fanout: { publishUI: (_s, ordinal) => void fanned.push(ordinal) } });
    try {
      const link = bus.link!;
      const first = await link.apply({ sessionId: "s", name: "ChatTokensDelta", payload: delta("a"), eventId: "x1" });
      expect(first.duplicate).toBe(false);
      expect(first.applied.event.ordinal).toBe(1n);
      expect(first.applied.uiEvents.map((u) => u.name)).toEqual(["ChatMessageAppended"]);
      await link.apply({ sessionId: "s", name: "ChatTokensDelta", payload: delta("b"), eventId: "x2" });
      const again = await link.apply({ sessionId: "s", name: "ChatTokensDelta", payload: delta("a"), eventId: "x1" });
      expect(again).toMatchObject({ duplicate: true, applied: { event: { ordinal: 1n }, uiEvents: [], entities: [] } });
      expect((await store.readEvents("s", 0n)).map((e) => [e.eventId, (e.payload as unknown as { chunk: string }).chunk])).toEqual([
        ["x1", "a"],
        ["x2", "b"],
      ]);
      expect(fanned).toEqual([1n, 2n]);
      // An event applied by another node reaches this hub's fanout through deliverRemote.
      link.deliverRemote({ event: { sessionId: "s", ordinal: 3n, name: "ChatTokensDelta", payload: delta("c") }, uiEvents: [], entities: [] });
      expect(fanned).toEqual([1n, 2n]); // no UI events: nothing to fan out
    } finally {
      await hub.close();
      await store.close();
    }
  });
});
