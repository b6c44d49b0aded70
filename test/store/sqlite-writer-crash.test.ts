// The SQLite store's writer thread dying (an out-of-memory kill of the
// thread, a bug in the driver): the writes in flight are rejected (or were
// committed before it died), the store says so once and writes on the main
// thread from then on, and no acknowledged event is lost.
import type { Worker as NodeWorker } from "node:worker_threads";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test, vi } from "vitest";
import { ChatMessageEntitySchema, TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import type { ApplyBatch, Hub } from "../../src/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import { chatHub, chatRegistry, type ChatSchema } from "../helpers/chat-app.js";

// Every worker started, with its workerData, so the test can kill the writer thread.
const workers = vi.hoisted(() => [] as Array<{ worker: NodeWorker; data: unknown }>);
vi.mock("node:worker_threads", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:worker_threads")>();
  class RecordedWorker extends real.Worker {
    constructor(...args: ConstructorParameters<typeof real.Worker>) {
      super(...args);
      workers.push({ worker: this, data: args[1]?.workerData });
    }
  }
  return { ...real, Worker: RecordedWorker };
});

const dir = mkdtempSync(join(tmpdir(), "ss-writer-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A store with a writer thread, and that thread (its workerData carries the write statements; the checkpointer's does not). */
function openWithWriterThread(path: string, busyTimeoutMs?: number): { store: SqliteHydrationStore; writer: NodeWorker } {
  const before = workers.length;
  const store = new SqliteHydrationStore({ path, registry: chatRegistry(), writer: "thread", ...(busyTimeoutMs ? { busyTimeoutMs } : {}) });
  const found = workers.slice(before).filter((w) => (w.data as { sql?: unknown } | undefined)?.sql !== undefined);
  if (found.length !== 1) throw new Error(`expected one writer thread, found ${found.length}`);
  return { store, writer: found[0]!.worker };
}

function tokens(hub: Hub<ChatSchema>, sessionId: string, from: number, count: number): Array<Promise<bigint>> {
  const pub = hub.publisher(sessionId);
  return Array.from({ length: count }, (_, i) => pub.publish("ChatTokensDelta", { messageId: "m1", chunk: `t${from + i} ` }));
}

function batch(sessionId: string, ordinal: bigint): ApplyBatch {
  const chunk = `t${ordinal} `;
  return {
    sessionId,
    ordinal,
    event: { sessionId, ordinal, name: "ChatTokensDelta", payload: create(TokensDeltaEventSchema, { messageId: "m", chunk }), appliedAt: 1 },
    entities: [{ kind: "ChatMessage", id: "m", createdOrdinal: 1n, lastEventOrdinal: ordinal, tombstone: false, payload: create(ChatMessageEntitySchema, { messageId: "m", text: chunk }) }],
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));
const mainThreadNotices = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.map((c) => String(c[0])).filter((m) => m.includes("writing on the main thread from now on"));

describe("SQLite writer thread crash", () => {
  test("a group the thread took down is rejected, not half-written; later applies commit on the main thread", async () => {
    const path = join(dir, "store.sqlite");
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const { store, writer } = openWithWriterThread(path, 300);
    try {
      await Promise.all(range(1, 5).map((o) => store.apply(batch("s", o))));
      // Another connection holds the write lock: the thread's next transaction waits on it, so it cannot commit before it dies.
      const locker = new Database(path);
      locker.exec("BEGIN IMMEDIATE");
      const inFlight = Promise.allSettled(range(6, 10).map((o) => store.apply(batch("s", o))));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await writer.terminate();
      locker.exec("ROLLBACK");
      locker.close();
      const outcomes = await inFlight;
      expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected", "rejected", "rejected", "rejected"]);
      expect(mainThreadNotices(errors)).toHaveLength(1);

      // The same writes again, now on the main thread.
      await Promise.all(range(6, 10).map((o) => store.apply(batch("s", o))));
      expect(await store.cursor("s")).toBe(10n);
      await store.close();
      const reopened = new SqliteHydrationStore({ path, registry: chatRegistry(), writer: "main" });
      try {
        expect((await reopened.readEvents("s", 0n, 100)).map((e) => e.ordinal)).toEqual(range(1, 10));
        const snap = await reopened.snapshot("s");
        expect(snap.snapshotOrdinal).toBe(10n);
        expect(snap.entities.map((e) => [e.lastEventOrdinal, (e.payload as unknown as { text: string }).text])).toEqual([[10n, "t10 "]]);
      } finally {
        await reopened.close();
      }
    } finally {
      errors.mockRestore();
    }
  }, 30_000);

  test("a hub keeps publishing after the thread dies: ordinals dense, no acknowledged event lost, the timeline matches the log after a restart", async () => {
    const path = join(dir, "hub.sqlite");
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const { store, writer } = openWithWriterThread(path);
    const hub = chatHub({ store, hubOptions: { onError: () => {} } });
    try {
      await hub.publisher("s").publish("ChatInferenceStarted", { messageId: "m1", prompt: "p" });
      await Promise.all(tokens(hub, "s", 0, 20));
      // Killed while publishes are under way: each one is acknowledged or fails with store_failed.
      const settled = Promise.allSettled(tokens(hub, "s", 20, 50));
      const killed = writer.terminate();
      const outcomes = await settled;
      await killed;
      for (const o of outcomes) if (o.status === "rejected") expect((o.reason as { code?: string }).code).toBe("store_failed");
      const acknowledged = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));

      const after = await Promise.all(tokens(hub, "s", 70, 10));
      expect(mainThreadNotices(errors)).toHaveLength(1);
      await hub.close();
      await store.close();

      const reopened = new SqliteHydrationStore({ path, registry: chatRegistry(), writer: "main" });
      try {
        const logged = await reopened.readEvents("s", 0n, 1000);
        const ordinals = logged.map((e) => e.ordinal);
        expect(ordinals).toEqual(ordinals.map((_, i) => BigInt(i + 1)));
        for (const ordinal of [...acknowledged, ...after]) expect(ordinals).toContain(ordinal);
        expect(ordinals.at(-1)).toBe(after.at(-1));
        const snap = await reopened.snapshot("s");
        expect(snap.snapshotOrdinal).toBe(after.at(-1));
        const chunks = logged.slice(1).map((e) => (e.payload as unknown as { chunk: string }).chunk).join("");
        expect((snap.entities[0]!.payload as unknown as { text: string }).text).toBe(chunks);
      } finally {
        await reopened.close();
      }
    } finally {
      errors.mockRestore();
    }
  }, 30_000);
});
