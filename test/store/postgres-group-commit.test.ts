// Group commit in the PostgreSQL store, on the real server (skipped with a
// printed reason when none answers): events of many sessions applied while
// group statements are in flight share a statement, each resolving after
// it committed; a redelivered event in a group resolves and changes
// nothing; a conflicting one fails alone; a timeline write lands after the
// applies called before it; close() writes what it accepted.
import { create } from "@bufbuild/protobuf";
import { afterAll, describe, expect, test } from "vitest";
import type { ApplyBatch } from "../../src/index.js";
import { PostgresHydrationStore, type PostgresHydrationStoreOptions } from "../../src/store/postgres/index.js";
import { ChatMessageEntitySchema, TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { chatRegistry } from "../helpers/chat-app.js";
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";

const pgSkip = await postgresUnavailable();
const schemas = new Set<string>();
afterAll(async () => {
  if (!pgSkip) await dropSchemas(schemas);
});

function open(options: Partial<PostgresHydrationStoreOptions> = {}) {
  const schema = freshSchema();
  schemas.add(schema);
  return new PostgresHydrationStore({ connectionString: PG_URL, schema, registry: chatRegistry(), poolSize: 4, ...options });
}

function batch(sessionId: string, ordinal: bigint, text = `${sessionId}#${ordinal}`, eventId?: string): ApplyBatch {
  return {
    sessionId,
    ordinal,
    event: { sessionId, ordinal, name: "ChatTokensDelta", payload: create(TokensDeltaEventSchema, { messageId: "m", chunk: text }), appliedAt: 1, ...(eventId ? { eventId } : {}) },
    entities: [{ kind: "ChatMessage", id: "m", createdOrdinal: 1n, lastEventOrdinal: ordinal, tombstone: false, payload: create(ChatMessageEntitySchema, { messageId: "m", text }) }],
  };
}

/** Counts the apply statements the store sends, by statement name. */
function countStatements(store: PostgresHydrationStore): Map<string, number> {
  const counts = new Map<string, number>();
  const pool = store.pool;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const name = (args[0] as { name?: string }).name?.replace(/^ss_[^_]+_/, "") ?? "(text)";
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return query(...args);
  };
  return counts;
}

const textOf = (payload: unknown) => (payload as { text: string }).text;

describe.skipIf(pgSkip !== undefined)("PostgreSQL group commit", () => {
  test("applies of 200 sessions share a few statements, each resolving after its commit, and land whole", async () => {
    const store = open();
    await store.ready();
    const counts = countStatements(store);
    const sessions = Array.from({ length: 200 }, (_, i) => `s${i}`);
    await Promise.all(sessions.map((s) => store.apply(batch(s, 1n))));
    const statements = (counts.get("applyGroup") ?? 0) + (counts.get("apply") ?? 0);
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThanOrEqual(4);
    // Durable and visible to another store (its own pool).
    const other = new PostgresHydrationStore({ connectionString: PG_URL, schema: store.schema, registry: chatRegistry(), poolSize: 1 });
    for (const s of ["s0", "s117", "s199"]) {
      expect(await other.cursor(s)).toBe(1n);
      expect(textOf((await other.snapshot(s)).entities[0]!.payload)).toBe(`${s}#1`);
      expect((await other.readEvents(s, 0n)).map((e) => e.ordinal)).toEqual([1n]);
    }
    await other.close();
    await store.close();
  });

  test("in one group: a redelivery resolves and changes nothing, a conflicting ordinal fails alone, the others land", async () => {
    const store = open();
    await store.apply(batch("taken", 1n, "first"));
    await store.apply(batch("again", 1n, "once", "ev-1"));
    const results = await Promise.allSettled([
      store.apply(batch("a", 1n)),
      store.apply(batch("taken", 1n, "second")),
      store.apply(batch("again", 1n, "once", "ev-1")),
      store.apply(batch("b", 1n)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/already has a different event at ordinal 1/);
    expect(await store.cursor("a")).toBe(1n);
    expect(await store.cursor("b")).toBe(1n);
    expect((await store.readEvents("taken", 0n)).map((e) => (e.payload as unknown as { chunk: string }).chunk)).toEqual(["first"]);
    expect(textOf((await store.snapshot("taken")).entities[0]!.payload)).toBe("first");
    expect((await store.readEvents("again", 0n)).length).toBe(1);
    await store.close();
  });

  test("a group the server refuses (a row out of range) is retried event by event: only the bad one fails", async () => {
    const store = open();
    await store.ready();
    const counts = countStatements(store);
    const results = await Promise.allSettled([store.apply(batch("ok1", 1n)), store.apply(batch("bad", 2n ** 63n)), store.apply(batch("ok2", 1n))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/out of range/);
    // One group statement, then one statement per event.
    expect(counts.get("applyGroup")).toBe(1);
    expect(counts.get("apply")).toBe(3);
    expect(await store.cursor("ok1")).toBe(1n);
    expect(await store.cursor("ok2")).toBe(1n);
    expect(await store.cursor("bad")).toBe(0n);
    await store.close();
  });

  test("two events of one session in a group: both logged, the entity keeps the newer", async () => {
    const store = open({ maxConcurrentGroups: 1 });
    await Promise.all([store.apply(batch("twice", 1n, "one")), store.apply(batch("twice", 2n, "two"))]);
    expect(await store.cursor("twice")).toBe(2n);
    expect((await store.readEvents("twice", 0n)).map((e) => e.ordinal)).toEqual([1n, 2n]);
    expect(textOf((await store.snapshot("twice")).entities[0]!.payload)).toBe("two");
    await store.close();
  });

  test("a timeline replace called while applies wait lands after them", async () => {
    const store = open();
    await store.ready();
    const applied = store.apply(batch("r", 1n, "old"));
    const replaced = store.replaceTimeline("r", {
      timelineCursor: 1n,
      entities: [{ kind: "ChatMessage", id: "m", createdOrdinal: 1n, lastEventOrdinal: 1n, tombstone: false, payload: create(ChatMessageEntitySchema, { messageId: "m", text: "new" }) }],
    });
    await Promise.all([applied, replaced]);
    expect(textOf((await store.snapshot("r")).entities[0]!.payload)).toBe("new");
    await store.close();
  });

  test("close() writes the applies it already accepted", async () => {
    const store = open();
    await store.ready();
    const pending = [store.apply(batch("c1", 1n)), store.apply(batch("c2", 1n))];
    await store.close();
    await Promise.all(pending);
    const again = new PostgresHydrationStore({ connectionString: PG_URL, schema: store.schema, registry: chatRegistry(), poolSize: 1 });
    expect(await again.cursor("c1")).toBe(1n);
    expect(await again.cursor("c2")).toBe(1n);
    await again.close();
  });
});
