// The same contract, run against every shipped store: memory, SQLite and
// PostgreSQL (skipped with a printed reason when no server answers). Durable
// stores also run the restart and kill -9 tests.
import { create } from "@bufbuild/protobuf";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  MemoryHydrationStore,
  type ErrorRecordStore,
  type EventLogStore,
  type HydrationStore,
  type ProjectionCursorStore,
  type SessionListStore,
  type TimelineEntity,
  type TimelineResetStore,
} from "../../src/index.js";
import type { TimelineReplaceStore } from "../../src/store/hydration-store.js";
import { PostgresHydrationStore } from "../../src/store/postgres/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import { ChatMessageEntitySchema, TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import type { StoreSpec } from "../../fixtures/runtime/open-store.js";
import { chatHub, chatRegistry } from "../helpers/chat-app.js";
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";

type FullStore = HydrationStore &
  EventLogStore &
  ProjectionCursorStore &
  TimelineResetStore &
  TimelineReplaceStore &
  ErrorRecordStore &
  SessionListStore & { close(): Promise<void> };

interface StoreKind {
  readonly name: string;
  /** Why the suite cannot run this store here (printed), if it cannot. */
  readonly skip?: string | undefined;
  /** A new, empty place for a store (a file path, a schema). */
  fresh(): string;
  /** Opens the store at `place`; durable stores find what an earlier store there wrote. */
  open(place: string, options?: { pageSize?: number }): FullStore;
  /** For durable stores: the spec a child process opens the same store with. */
  spec?(place: string): StoreSpec;
}

const dir = mkdtempSync(join(tmpdir(), "ss-contract-"));
const schemas = new Set<string>();
const pgSkip = await postgresUnavailable();
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!pgSkip) await dropSchemas(schemas);
});

let n = 0;
const kinds: StoreKind[] = [
  {
    name: "memory",
    fresh: () => "",
    open: (_place, options) => new MemoryHydrationStore({ pageSize: options?.pageSize ?? 500 }),
  },
  // Both writers: commits on the event loop's connection, and on a worker thread's.
  ...(["main", "thread"] as const).map(
    (writer): StoreKind => ({
      name: `sqlite (writer: ${writer})`,
      fresh: () => join(dir, `db${++n}`, "app.sqlite"),
      open: (path, options) => new SqliteHydrationStore({ path, registry: chatRegistry(), pageSize: options?.pageSize ?? 500, writer }),
      spec: (path) => ({ kind: "sqlite", path, writer }),
    }),
  ),
  {
    name: "postgres",
    skip: pgSkip,
    fresh: () => {
      const schema = freshSchema();
      schemas.add(schema);
      return schema;
    },
    open: (schema, options) =>
      new PostgresHydrationStore({ connectionString: PG_URL, schema, registry: chatRegistry(), poolSize: 4, pageSize: options?.pageSize ?? 500 }),
    spec: (schema) => ({ kind: "postgres", connectionString: PG_URL, schema }),
  },
];

function entity(id: string, created: bigint, last: bigint, text: string, tombstone = false): TimelineEntity {
  return { kind: "ChatMessage", id, createdOrdinal: created, lastEventOrdinal: last, tombstone, payload: create(ChatMessageEntitySchema, { messageId: id, text }) };
}
function event(ordinal: bigint) {
  return { sessionId: "s", ordinal, name: "ChatTokensDelta", payload: create(TokensDeltaEventSchema, { chunk: String(ordinal) }), appliedAt: 1000 + Number(ordinal) };
}
const textOf = (e: TimelineEntity | undefined) => (e?.payload as unknown as { text: string } | undefined)?.text;

for (const kind of kinds) {
  describe.skipIf(kind.skip !== undefined)(`${kind.name} store contract`, () => {
    const open = (options?: { pageSize?: number }) => kind.open(kind.fresh(), options);

    test("apply, cursor, snapshot order, delta with tombstones, event paging, errors", async () => {
      const store = open({ pageSize: 2 });
      expect(await store.cursor("s")).toBe(0n);
      await store.apply({ sessionId: "s", ordinal: 1n, event: event(1n), entities: [entity("b", 1n, 1n, "b1")] });
      await store.apply({ sessionId: "s", ordinal: 2n, event: event(2n), entities: [entity("a", 2n, 2n, "a2")] });
      await store.apply({ sessionId: "s", ordinal: 3n, event: event(3n), entities: [entity("b", 1n, 3n, "b3"), entity("a", 2n, 3n, "a2", true)] });
      expect(await store.cursor("s")).toBe(3n);

      const full = await store.snapshot("s");
      expect(full.snapshotOrdinal).toBe(3n);
      expect(full.epoch).toBe(1n);
      expect(full.entities.map((e) => [e.id, e.createdOrdinal, e.lastEventOrdinal, textOf(e)])).toEqual([["b", 1n, 3n, "b3"]]);
      const delta = await store.snapshot("s", { changedAfter: 2n });
      expect(delta.entities.map((e) => [e.id, e.tombstone])).toEqual([["b", false], ["a", true]]);
      expect(await store.snapshot("nobody")).toEqual({ sessionId: "nobody", snapshotOrdinal: 0n, entities: [], epoch: 1n });

      const view = await store.view("s");
      expect(view.get("ChatMessage", "a")).toBeUndefined();
      expect(view.list("ChatMessage").map((e) => e.id)).toEqual(["b"]);

      expect((await store.readEvents("s", 0n)).map((e) => e.ordinal)).toEqual([1n, 2n]);
      expect((await store.readEvents("s", 2n)).map((e) => [e.ordinal, e.appliedAt])).toEqual([[3n, 1003]]);
      expect((await store.readEvents("s", 0n, 10))[2]!.payload).toMatchObject({ $typeName: "chat.v1.TokensDeltaEvent", chunk: "3" });

      await store.recordError({ sessionId: "s", ordinal: 2n, eventName: "X", kind: "ui_projection", code: "projection_failed", message: "m", recordedAt: 5 });
      await store.recordError({ sessionId: "t", kind: "store", code: "store_failed", message: "n", recordedAt: 6 });
      expect(await store.listErrors("s")).toEqual([{ sessionId: "s", ordinal: 2n, eventName: "X", kind: "ui_projection", code: "projection_failed", message: "m", recordedAt: 5 }]);
      expect((await store.listErrors()).map((e) => e.sessionId)).toEqual(["s", "t"]);
      expect((await store.listErrors(undefined, 1)).map((e) => e.sessionId)).toEqual(["t"]);

      await store.resetTimeline("s");
      expect((await store.snapshot("s")).entities).toEqual([]);
      expect(await store.timelineCursor("s")).toBe(0n);
      expect(await store.timelineEpoch("s")).toBe(2n);
      expect(await store.cursor("s")).toBe(3n);
      // Replay writes (no event) move the timeline cursor only.
      await store.apply({ sessionId: "s", ordinal: 1n, entities: [entity("b", 1n, 1n, "b1")] });
      expect(await store.timelineCursor("s")).toBe(1n);
      expect(await store.cursor("s")).toBe(3n);
      await store.close();
    });

    test("replaceTimeline swaps the whole timeline and bumps the epoch in one step", async () => {
      const store = open();
      await store.apply({ sessionId: "s", ordinal: 1n, event: event(1n), entities: [entity("a", 1n, 1n, "old a")] });
      await store.apply({ sessionId: "s", ordinal: 2n, event: event(2n), entities: [entity("b", 2n, 2n, "old b")] });
      const epoch = await store.replaceTimeline("s", {
        entities: [entity("c", 1n, 2n, "new c"), entity("a", 1n, 2n, "new a", true)],
        timelineCursor: 2n,
      });
      expect(epoch).toBe(2n);
      expect(await store.timelineEpoch("s")).toBe(2n);
      expect(await store.timelineCursor("s")).toBe(2n);
      const snap = await store.snapshot("s");
      expect([snap.snapshotOrdinal, snap.epoch]).toEqual([2n, 2n]);
      expect(snap.entities.map((e) => [e.id, textOf(e)])).toEqual([["c", "new c"]]);
      // The removal stays visible to a delta.
      expect((await store.snapshot("s", { changedAfter: 1n })).entities.map((e) => [e.id, e.tombstone])).toEqual([["a", true], ["c", false]]);
      // The event log and the session cursor are untouched.
      expect((await store.readEvents("s", 0n)).map((e) => e.ordinal)).toEqual([1n, 2n]);
      expect(await store.cursor("s")).toBe(2n);
      await store.close();
    });

    test("the event log pages after an ordinal; rebuildTimeline reproduces the snapshot exactly", async () => {
      const store = open();
      const hub = chatHub({ store, tokens: ["a", "b", "c"] });
      await hub.submit("s", "ChatStartInference", { prompt: "1" });
      await hub.submit("s", "ChatStartInference", { prompt: "2" });
      await hub.publisher("s").publish("ChatMessageDeleted", { messageId: "m2" });
      const page = await store.readEvents("s", 3n, 4);
      expect(page.map((e) => [e.ordinal, e.name])).toEqual([
        [4n, "ChatTokensDelta"],
        [5n, "ChatInferenceFinished"],
        [6n, "ChatInferenceStarted"],
        [7n, "ChatTokensDelta"],
      ]);
      expect(page[0]!.payload).toMatchObject({ $typeName: "chat.v1.TokensDeltaEvent", chunk: "c" });

      const before = await hub.snapshot("s");
      expect(before.epoch).toBe(1n);
      expect(await hub.rebuildTimeline("s")).toEqual({ ...before, epoch: 2n });
      expect(await store.timelineEpoch("s")).toBe(2n);
      expect(await store.timelineCursor("s")).toBe(11n);
      // A delta snapshot carries the tombstone.
      const delta = await hub.snapshot("s", { changedAfter: 10n });
      expect(delta.entities.map((e) => [e.id, e.tombstone])).toEqual([["m2", true]]);
      await store.close();
    });

    test("listSessions lists the sessions something was written to, not the ones only read", async () => {
      const store = open();
      const hub = chatHub({ store, tokens: [] });
      await hub.snapshot("read-only");
      await store.view("read-only");
      expect(await hub.cursor("read-only")).toBe(0n);
      await hub.publisher("written").publish("ChatInferenceStarted", { messageId: "x", prompt: "p" });
      expect(await store.listSessions()).toEqual([{ sessionId: "written", cursor: 1n }]);
      await hub.close();
      await store.close();
    });

    test.skipIf(!kind.spec)("restart continues ordinals and returns the identical snapshot", async () => {
      const place = kind.fresh();
      const a = kind.open(place);
      const hubA = chatHub({ store: a, tokens: ["one ", "two"] });
      await hubA.submit("s", "ChatStartInference", { prompt: "first" });
      await hubA.publisher("other").publish("ChatInferenceStarted", { messageId: "x", prompt: "p" });
      await a.recordError({ sessionId: "s", kind: "store", code: "store_failed", message: "kept", recordedAt: 1 });
      const before = await hubA.snapshot("s");
      await hubA.close();
      await a.close();

      const b = kind.open(place);
      const hubB = chatHub({ store: b, tokens: ["three"] });
      expect(await hubB.cursor("s")).toBe(4n);
      expect(await hubB.snapshot("s")).toEqual(before);
      expect(await hubB.publisher("s").publish("ChatMessageDeleted", { messageId: "m1" })).toBe(5n);
      expect(await hubB.cursor("other")).toBe(1n);
      expect(await b.listSessions()).toEqual([
        { sessionId: "other", cursor: 1n },
        { sessionId: "s", cursor: 5n },
      ]);
      expect((await b.listErrors("s")).map((e) => e.message)).toEqual(["kept"]);
      await b.close();
    });

    test.skipIf(!kind.spec)("a killed writer process loses no acknowledged event", async () => {
      const place = kind.fresh();
      const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../../fixtures/runtime/store-writer.ts"), JSON.stringify(kind.spec!(place))], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const acked = await new Promise<bigint>((resolve, reject) => {
        let buf = "";
        let last = 0n;
        child.stdout.on("data", (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split("\n");
          buf = lines.pop() ?? "";
          for (const line of lines) if (line.startsWith("ack ")) last = BigInt(line.slice(4));
          if (last >= 200n) {
            child.kill("SIGKILL");
            resolve(last);
          }
        });
        child.on("exit", () => (last >= 200n ? resolve(last) : reject(new Error(`writer exited early: ${stderr}`))));
      });
      await new Promise((r) => child.once("close", r));

      const store = kind.open(place);
      const hub = chatHub({ store });
      const cursor = await hub.cursor("crash-session");
      expect(cursor >= acked).toBe(true);
      const events = await store.readEvents("crash-session", 0n, 1_000_000);
      expect(events.map((e) => e.ordinal)).toEqual(Array.from({ length: Number(cursor) }, (_, i) => BigInt(i + 1)));
      // The timeline matches the log: every delta chunk is in the message text.
      const text = textOf((await hub.snapshot("crash-session")).entities[0]);
      expect(text!.split(" ").filter(Boolean)).toHaveLength(Number(cursor) - 1);
      const beforeRebuild = await hub.snapshot("crash-session");
      expect(await hub.rebuildTimeline("crash-session")).toEqual({ ...beforeRebuild, epoch: beforeRebuild.epoch! + 1n });
      await store.close();
    }, 60_000);

    test.skipIf(!kind.spec)(
      "a crash at any moment of a rebuild leaves the old or the fully rebuilt timeline",
      async () => {
        const place = kind.fresh();
        const spec = JSON.stringify(kind.spec!(place));
        const rebuilder = join(import.meta.dirname, "../../fixtures/runtime/store-rebuilder.ts");
        const run = (args: string[], killAfterMs?: number) =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ["--import", "tsx", rebuilder, spec, ...args], { stdio: ["ignore", "pipe", "pipe"] });
            let out = "";
            let err = "";
            child.stdout.on("data", (d: Buffer) => {
              out += d.toString();
              if (killAfterMs !== undefined && out.includes("rebuilding")) setTimeout(() => child.kill("SIGKILL"), killAfterMs);
            });
            child.stderr.on("data", (d: Buffer) => (err += d.toString()));
            child.on("close", (code, signal) =>
              code === 0 || signal === "SIGKILL" ? resolve(out) : reject(new Error(`rebuilder failed (${code}): ${err}`)),
            );
          });
        const events = 3000;
        await run(["seed", String(events)]);
        const seen = new Set<string>();
        for (const delay of [5, 20, 50, 100, 1000]) {
          const out = await run(["rebuild"], delay);
          const store = kind.open(place);
          const snap = await store.snapshot("s");
          const text = textOf(snap.entities[0]);
          // Old (1 per event) or rebuilt (2 per event), nothing in between, and the cursors agree.
          expect([String(events), String(2 * events)]).toContain(text);
          expect(snap.snapshotOrdinal).toBe(BigInt(events));
          expect(await store.timelineCursor("s")).toBe(BigInt(events));
          seen.add(`${text}${out.includes("rebuilt") ? " (finished)" : " (killed)"}`);
          await store.close();
        }
        // At least one kill landed mid-rebuild (the old timeline survived it).
        expect([...seen]).toContain(`${events} (killed)`);
      },
      180_000,
    );
  });
}
