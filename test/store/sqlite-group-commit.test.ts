// Group commit in the SQLite store: applies arriving in one turn of the event
// loop share a transaction, each resolving after its commit; a group with
// one bad write (an ordinal already taken) is retried one event per
// transaction, so only that write fails; close() commits what was accepted.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, describe, expect, test } from "vitest";
import { ChatMessageEntitySchema, TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import type { ApplyBatch } from "../../src/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import { chatRegistry } from "../helpers/chat-app.js";
import { until } from "../helpers/until.js";

const dir = mkdtempSync(join(tmpdir(), "ss-group-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const open = (maxEventsPerTransaction?: number, writer: "main" | "thread" = "main") =>
  new SqliteHydrationStore({ path: join(dir, `${++n}.sqlite`), registry: chatRegistry(), writer, ...(maxEventsPerTransaction ? { maxEventsPerTransaction } : {}) });

function batch(sessionId: string, ordinal: bigint, text = `${sessionId}#${ordinal}`): ApplyBatch {
  return {
    sessionId,
    ordinal,
    event: { sessionId, ordinal, name: "ChatTokensDelta", payload: create(TokensDeltaEventSchema, { messageId: "m", chunk: text }), appliedAt: 1 },
    entities: [{ kind: "ChatMessage", id: "m", createdOrdinal: 1n, lastEventOrdinal: ordinal, tombstone: false, payload: create(ChatMessageEntitySchema, { messageId: "m", text }) }],
  };
}

/** Frames in the WAL: each committed transaction appends at least one, so fewer frames for the same rows means fewer transactions. */
function walFrames(store: SqliteHydrationStore): number {
  return Number((store.database.pragma("wal_checkpoint(PASSIVE)") as Array<{ log: bigint }>)[0]!.log);
}

describe("SQLite group commit", () => {
  test("applies of 200 sessions in one turn share a transaction, each resolving after the commit", async () => {
    const sessions = Array.from({ length: 200 }, (_, i) => `s${i}`);
    const frames: number[] = [];
    for (const store of [open(), open(1)]) {
      const settled: string[] = [];
      const all = sessions.map((s) => store.apply(batch(s, 1n)).then(() => settled.push(s)));
      // Grouped, nothing is acknowledged in the turn that applied (the commit comes after it).
      await Promise.resolve();
      if (frames.length === 0) expect(settled).toEqual([]);
      await Promise.all(all);
      frames.push(walFrames(store));
      // Durable and visible to another connection (the entities follow: timeline write-behind).
      const other = new SqliteHydrationStore({ path: store.path, registry: chatRegistry() });
      expect((await other.readEvents("s199", 0n))[0]?.payload).toMatchObject({ chunk: "s199#1" });
      expect(await other.cursor("s199")).toBe(1n);
      await other.close();
      await store.close();
    }
    const [grouped, single] = frames as [number, number];
    expect(grouped * 5).toBeLessThan(single);
  });

  test.each(["main", "thread"] as const)("writer %s: a group with one conflicting ordinal: that apply fails alone, the others land", async (writer) => {
    const store = open(undefined, writer);
    await store.apply(batch("taken", 1n, "first"));
    const results = await Promise.allSettled([store.apply(batch("a", 1n)), store.apply(batch("taken", 1n, "second")), store.apply(batch("b", 1n))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE|constraint/i);
    expect(await store.cursor("a")).toBe(1n);
    expect(await store.cursor("b")).toBe(1n);
    const log = await store.readEvents("taken", 0n, 10);
    expect(log.map((e) => (e.payload as unknown as { chunk: string }).chunk)).toEqual(["first"]);
    await store.close();
  });

  test("more applies than maxEventsPerTransaction are split across transactions, in order, yielding between them", async () => {
    const store = open(8);
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.apply(batch(`t${i}`, 1n))));
    clearInterval(ticker);
    // 13 groups of at most 8, each in its own turn: the timer got turns in between.
    expect(turns).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) expect(await store.cursor(`t${i}`)).toBe(1n);
    await store.close();
  });

  test.each(["main", "thread"] as const)("writer %s: close() commits the applies it already accepted", async (writer) => {
    const store = open(undefined, writer);
    const pending = [store.apply(batch("c1", 1n)), store.apply(batch("c2", 1n))];
    await store.close();
    await Promise.all(pending);
    const again = new SqliteHydrationStore({ path: store.path, registry: chatRegistry() });
    expect(await again.cursor("c1")).toBe(1n);
    expect(await again.cursor("c2")).toBe(1n);
    await again.close();
  });

  test("writer thread: 100 applies with maxEventsPerTransaction 8 all land, in fewer WAL frames than one transaction each", async () => {
    const frames: number[] = [];
    for (const max of [8, 1]) {
      const store = open(max, "thread");
      await Promise.all(Array.from({ length: 100 }, (_, i) => store.apply(batch(`w${i}`, 1n))));
      for (let i = 0; i < 100; i++) expect(await store.cursor(`w${i}`)).toBe(1n);
      frames.push(walFrames(store));
      await store.close();
    }
    expect(frames[0]! * 2).toBeLessThan(frames[1]!);
  });

  test("on the main thread, maxEventsPerTransaction 1 writes each apply before it returns", async () => {
    const store = new SqliteHydrationStore({ path: join(dir, `${++n}.sqlite`), registry: chatRegistry(), maxEventsPerTransaction: 1, writer: "main" });
    const p = store.apply(batch("x", 1n));
    expect(await store.cursor("x")).toBe(1n);
    await p;
    await store.close();
  });
});

describe.each(["main", "thread"] as const)("SQLite writer %s: writes on the event loop's connection land after the applies before them", (writer) => {
  test("replaceTimeline and resetTimeline called while applies are pending", async () => {
    const store = new SqliteHydrationStore({ path: join(dir, `${++n}.sqlite`), registry: chatRegistry(), writer });
    const applied = [store.apply(batch("r", 1n, "old")), store.apply(batch("q", 1n, "old"))];
    // Not awaited: with one connection these would run in call order; so they must here.
    const replaced = store.replaceTimeline("r", {
      timelineCursor: 1n,
      entities: [{ kind: "ChatMessage", id: "m", createdOrdinal: 1n, lastEventOrdinal: 1n, tombstone: false, payload: create(ChatMessageEntitySchema, { messageId: "m", text: "new" }) }],
    });
    const reset = store.resetTimeline("q");
    await Promise.all([...applied, replaced, reset]);
    expect((await store.snapshot("r")).entities.map((e) => (e.payload as unknown as { text: string }).text)).toEqual(["new"]);
    expect((await store.snapshot("q")).entities).toEqual([]);
    expect(await store.timelineCursor("q")).toBe(0n);
    expect(await store.cursor("q")).toBe(1n);
    await store.close();
  });
});

describe("SQLite background checkpoints", () => {
  test("a worker thread checkpoints the WAL into the file while the event loop's connection never does", async () => {
    const store = new SqliteHydrationStore({ path: join(dir, "ckpt.sqlite"), registry: chatRegistry(), checkpointIntervalMs: 50 });
    expect(Number(store.database.pragma("wal_autocheckpoint", { simple: true }))).toBe(0);
    const sizeOf = () => statSync(store.path).size;
    const before = sizeOf();
    await Promise.all(Array.from({ length: 2000 }, (_, i) => store.apply(batch(`k${i}`, 1n))));
    // The rows reach the database file itself, copied by the other thread's checkpoints.
    await until(() => sizeOf() > before + 100_000, "the background checkpoint to copy the WAL into the file", 10_000);
    await store.close();
    const again = new SqliteHydrationStore({ path: store.path, registry: chatRegistry(), checkpoint: "auto" });
    expect(Number(again.database.pragma("wal_autocheckpoint", { simple: true }))).toBe(1000);
    expect(await again.cursor("k1999")).toBe(1n);
    await again.close();
  });
});
