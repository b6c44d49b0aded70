// Timeline write-behind of the SQLite store: events are committed before
// apply resolves, a session's entities are written at most once per
// timelineWriteDelayMs (newest version per entity), snapshots of the store
// include the changes not yet written, and a hub catches up a timeline the
// file holds behind its event log (after kill -9, or beside another store
// instance on the same file, as dev's reload has).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { create } from "@bufbuild/protobuf";
import { afterAll, afterEach, describe, expect, test, vi } from "vitest";
import { ChatMessageEntitySchema, TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import type { ApplyBatch, RuntimeErrorReport, TimelineEntity } from "../../src/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import { PendingTimelines } from "../../src/store/sqlite/timeline-write-behind.js";
import { chatHub, chatRegistry } from "../helpers/chat-app.js";
import { until } from "../helpers/until.js";

const dir = mkdtempSync(join(tmpdir(), "ss-write-behind-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());
let n = 0;
const fresh = () => join(dir, `${++n}.sqlite`);
const LONG = 600_000;

function batch(sessionId: string, ordinal: bigint, text: string, id = "m"): ApplyBatch {
  return {
    sessionId,
    ordinal,
    event: { sessionId, ordinal, name: "ChatTokensDelta", payload: create(TokensDeltaEventSchema, { messageId: id, chunk: text }), appliedAt: 1 },
    entities: [entity(id, ordinal, text)],
  };
}

function entity(id: string, lastEventOrdinal: bigint, text: string, createdOrdinal = 1n): TimelineEntity {
  return { kind: "ChatMessage", id, createdOrdinal, lastEventOrdinal, tombstone: false, payload: create(ChatMessageEntitySchema, { messageId: id, text }) };
}

/** What the file holds, read on a connection of its own. */
function onDisk(path: string, sessionId: string) {
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare("SELECT cursor, timeline_cursor FROM ss_sessions WHERE session_id = ?").get(sessionId) as
      | { cursor: number; timeline_cursor: number }
      | undefined;
    const entities = db.prepare("SELECT id, last_event_ordinal FROM ss_entities WHERE session_id = ? ORDER BY id").all(sessionId) as Array<{
      id: string;
      last_event_ordinal: number;
    }>;
    return { cursor: row?.cursor ?? 0, timelineCursor: row?.timeline_cursor ?? 0, entities: entities.map((e) => [e.id, e.last_event_ordinal]) };
  } finally {
    db.close();
  }
}

const textOf = (e: TimelineEntity | undefined) => (e?.payload as { text?: string } | undefined)?.text;

describe.each(["main", "thread"] as const)("SQLite timeline write-behind, writer %s", (writer) => {
  const open = (path: string, timelineWriteDelayMs: number) => new SqliteHydrationStore({ path, registry: chatRegistry(), writer, timelineWriteDelayMs });

  test("an event is committed at once, its entities later; the store's snapshots include them meanwhile", async () => {
    const path = fresh();
    const store = open(path, LONG);
    for (let i = 1n; i <= 3n; i++) await store.apply(batch("s", i, `v${i}`));
    await store.apply(batch("s", 4n, "other", "o"));
    // The file: every event and the session cursor, no entity yet.
    expect(onDisk(path, "s")).toEqual({ cursor: 4, timelineCursor: 0, entities: [] });
    // This store: the newest version of each entity, at the last ordinal.
    const snap = await store.snapshot("s");
    expect(snap.snapshotOrdinal).toBe(4n);
    expect(snap.entities.map((e) => [e.id, e.lastEventOrdinal, textOf(e)])).toEqual([
      ["m", 3n, "v3"],
      ["o", 4n, "other"],
    ]);
    expect((await store.snapshot("s", { changedAfter: 3n })).entities.map((e) => e.id)).toEqual(["o"]);
    expect(await store.timelineCursor("s")).toBe(4n);
    expect(await store.timelineBehind("s")).toBeUndefined();
    // Another instance on the file sees a consistent, older timeline and knows it is behind.
    const other = open(path, LONG);
    expect(await other.snapshot("s")).toEqual({ sessionId: "s", snapshotOrdinal: 0n, entities: [], epoch: 1n });
    expect(await other.timelineBehind("s")).toBe(4n);
    await other.close();
    // close() writes what was kept.
    await store.close();
    expect(onDisk(path, "s")).toEqual({ cursor: 4, timelineCursor: 4, entities: [["m", 3], ["o", 4]] });
  });

  test("a session's entity is written once per delay, its newest version, without another event to trigger it", async () => {
    const path = fresh();
    const store = open(path, 200);
    // Counts every entity row the store writes, on whichever connection writes it.
    store.database.exec(`
      CREATE TABLE writes (n INTEGER);
      CREATE TRIGGER count_insert AFTER INSERT ON ss_entities BEGIN INSERT INTO writes VALUES (1); END;
      CREATE TRIGGER count_update AFTER UPDATE ON ss_entities BEGIN INSERT INTO writes VALUES (1); END;`);
    const started = Date.now();
    for (let i = 1n; i <= 20n; i++) await store.apply(batch("s", i, `v${i}`));
    const appliedIn = Date.now() - started;
    expect(onDisk(path, "s").timelineCursor).toBe(0);
    await until(() => onDisk(path, "s").timelineCursor === 20, "the timeline to be written", 5000);
    expect(onDisk(path, "s").entities).toEqual([["m", 20]]);
    const reopened = open(path, LONG);
    expect(textOf((await reopened.snapshot("s")).entities[0])).toBe("v20");
    await reopened.close();
    // 20 versions of one entity: one row write per 200 ms window they spanned, not 20.
    const writes = Number((store.database.prepare("SELECT count(*) AS c FROM writes").get() as { c: bigint }).c);
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThanOrEqual(Math.min(19, Math.ceil(appliedIn / 200) + 1));
    await store.close();
  });

  test("resetTimeline and replaceTimeline drop the kept changes: they never come back", async () => {
    const path = fresh();
    const store = open(path, LONG);
    for (let i = 1n; i <= 3n; i++) await store.apply(batch("s", i, `old ${i}`));
    await store.replaceTimeline("s", { entities: [entity("n", 3n, "new")], timelineCursor: 3n });
    expect((await store.snapshot("s")).entities.map((e) => [e.id, textOf(e)])).toEqual([["n", "new"]]);
    await store.apply(batch("t", 1n, "t1"));
    await store.resetTimeline("t");
    expect((await store.snapshot("t")).entities).toEqual([]);
    await store.close();
    expect(onDisk(path, "s")).toEqual({ cursor: 3, timelineCursor: 3, entities: [["n", 3]] });
    expect(onDisk(path, "t").entities).toEqual([]);
  });

  test("a timeline write that fails (disk full) is reported once, kept for snapshots and written once the disk has room", async () => {
    const path = fresh();
    const store = open(path, 100);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await store.apply(batch("s", 1n, "small"));
    await until(() => onDisk(path, "s").timelineCursor === 1, "the first write");
    // Cap the file where it is: a small event still fits its pages, a 64 KiB entity does not.
    const pages = Number(store.database.pragma("page_count", { simple: true }));
    await store.pragma(`max_page_count = ${pages}`);
    const big = "x".repeat(64 * 1024);
    await store.apply({ ...batch("s", 2n, "e"), entities: [entity("m", 2n, big)] });
    expect(onDisk(path, "s").cursor).toBe(2);
    const reports = () => errors.mock.calls.filter((c) => String(c[0]).includes("writing timeline entities")).length;
    await until(() => reports() > 0, "the failure report", 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(reports()).toBe(1);
    expect(String(errors.mock.calls.find((c) => String(c[0]).includes("writing timeline entities"))![0])).toMatch(/full/);
    expect(onDisk(path, "s").timelineCursor).toBe(1);
    expect(textOf((await store.snapshot("s")).entities[0])).toBe(big);
    await store.pragma("max_page_count = 1073741823");
    await until(() => onDisk(path, "s").timelineCursor === 2, "the write after the disk has room", 5000);
    await store.close();
    const reopened = open(path, LONG);
    expect(textOf((await reopened.snapshot("s")).entities[0])).toBe(big);
    await reopened.close();
  });

  test("close() on a full disk resolves, reports once, and leaves the file's timeline consistent and marked behind", async () => {
    const path = fresh();
    const store = open(path, LONG);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await store.apply(batch("s", 1n, "small"));
    const pages = Number(store.database.pragma("page_count", { simple: true }));
    await store.pragma(`max_page_count = ${pages}`);
    await store.apply({ ...batch("s", 2n, "e"), entities: [entity("m", 2n, "x".repeat(64 * 1024))] });
    await store.close();
    expect(errors.mock.calls.filter((c) => String(c[0]).includes("writing timeline entities"))).toHaveLength(1);
    expect(onDisk(path, "s")).toEqual({ cursor: 2, timelineCursor: 0, entities: [] });
    const reopened = open(path, LONG);
    expect(await reopened.timelineBehind("s")).toBe(2n);
    expect(await reopened.snapshot("s")).toEqual({ sessionId: "s", snapshotOrdinal: 0n, entities: [], epoch: 1n });
    await reopened.close();
  });

  test("catch-up over several pages: a projection failing on a logged event is reported and that event skipped; the session loads and publishes", async () => {
    const path = fresh();
    const oldStore = open(path, LONG);
    const pub = chatHub({ store: oldStore }).publisher("s");
    await pub.publish("ChatInferenceStarted", { messageId: "m1", prompt: "p" });
    for (const chunk of ["a ", "boom ", "b ", "c ", "d "]) await pub.publish("ChatTokensDelta", { messageId: "m1", chunk });
    expect(onDisk(path, "s")).toMatchObject({ cursor: 6, timelineCursor: 0 });

    const reports: RuntimeErrorReport[] = [];
    const newStore = open(path, LONG);
    const hub = chatHub({ store: newStore, hubOptions: { rebuildPageSize: 2, onError: (r) => reports.push(r) } });
    hub.registerTimelineProjection((ev) => {
      if ((ev.payload as { chunk?: string }).chunk === "boom ") throw new Error("boom");
      return [];
    });
    const snap = await hub.snapshot("s");
    expect(snap.snapshotOrdinal).toBe(6n);
    expect(textOf(snap.entities[0])).toBe("a b c d ");
    expect(reports.map((r) => [r.kind, r.error.code, r.ordinal])).toEqual([["timeline_projection", "projection_failed", 3n]]);
    expect(await hub.publisher("s").publish("ChatTokensDelta", { messageId: "m1", chunk: "e " })).toBe(7n);
    expect(textOf((await hub.snapshot("s")).entities[0])).toBe("a b c d e ");
    await hub.close();
    await newStore.close();
    await oldStore.close();
  });

  test("kill -9: the file's timeline is behind its log, and a hub catches it up before it serves or projects", async () => {
    const path = fresh();
    const spec = JSON.stringify({ kind: "sqlite", path, writer, timelineWriteDelayMs: LONG });
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../../fixtures/runtime/store-writer.ts"), spec], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const acked = await new Promise<number>((resolve, reject) => {
      let buf = "";
      let last = 0;
      child.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        for (const line of lines) if (line.startsWith("ack ")) last = Number(line.slice(4));
        if (last >= 100) {
          child.kill("SIGKILL");
          resolve(last);
        }
      });
      child.on("exit", () => (last >= 100 ? resolve(last) : reject(new Error(`writer exited early: ${stderr}`))));
    });
    await new Promise((r) => child.once("close", r));
    const disk = onDisk(path, "crash-session");
    expect(disk.cursor).toBeGreaterThanOrEqual(acked);
    // Nothing of the timeline was written: the hub must rebuild it all from the log.
    expect(disk.timelineCursor).toBe(0);

    const store = open(path, LONG);
    const hub = chatHub({ store });
    const snap = await hub.snapshot("crash-session");
    expect(snap.snapshotOrdinal).toBe(BigInt(disk.cursor));
    expect(textOf(snap.entities[0])!.split(" ").filter(Boolean)).toHaveLength(disk.cursor - 1);
    // The next event projects on the caught-up timeline.
    await hub.publisher("crash-session").publish("ChatTokensDelta", { messageId: "m1", chunk: "after " });
    const next = await hub.snapshot("crash-session");
    expect(next.snapshotOrdinal).toBe(BigInt(disk.cursor + 1));
    expect(textOf(next.entities[0])!.endsWith("after ")).toBe(true);
    expect(await hub.rebuildTimeline("crash-session")).toEqual({ ...next, epoch: 2n });
    await hub.close();
    await store.close();
    expect(onDisk(path, "crash-session").timelineCursor).toBe(disk.cursor + 1);
  }, 60_000);

  test("two store instances on one file (dev's reload): the newer hub catches up, the older store's late write never goes back", async () => {
    const path = fresh();
    const oldStore = open(path, LONG);
    const oldHub = chatHub({ store: oldStore, tokens: ["a ", "b "] });
    await oldHub.submit("s", "ChatStartInference", { prompt: "p" });
    const newStore = open(path, LONG);
    const newHub = chatHub({ store: newStore, tokens: ["c "] });
    expect((await newHub.snapshot("s")).entities.map((e) => [e.id, textOf(e)])).toEqual([["m1", "a b "]]);
    await newHub.publisher("s").publish("ChatTokensDelta", { messageId: "m1", chunk: "late " });
    await newHub.close();
    await newStore.close();
    // The older store writes its older versions last.
    await oldHub.close();
    await oldStore.close();
    expect(onDisk(path, "s")).toEqual({ cursor: 5, timelineCursor: 5, entities: [["m1", 5]] });
    const reopened = open(path, LONG);
    expect(textOf((await reopened.snapshot("s")).entities[0])).toBe("a b late ");
    await reopened.close();
  });
});

describe("PendingTimelines", () => {
  const ids = (writes: ReturnType<PendingTimelines["take"]>) => writes.map((w) => [w.sessionId, w.ordinal, w.entities.map((e) => textOf(e))]);

  test("keeps the newest version per entity and takes sessions once their oldest change is delayMs old, oldest first, at most max", () => {
    const kept = new PendingTimelines(100);
    kept.merge("a", 1n, [entity("m", 1n, "a1")], 0);
    kept.merge("b", 1n, [entity("m", 1n, "b1")], 10);
    kept.merge("a", 2n, [entity("m", 2n, "a2")], 20);
    kept.merge("c", 1n, [entity("m", 1n, "c1")], 50);
    expect(kept.take(99, 10)).toEqual([]);
    expect(ids(kept.take(110, 10))).toEqual([["a", 2n, ["a2"]], ["b", 1n, ["b1"]]]);
    expect(ids(kept.take(200, 0))).toEqual([]);
    expect(ids(kept.take(0, 10, true))).toEqual([["c", 1n, ["c1"]]]);
  });

  test("a failed write is kept again under newer changes; a written one is forgotten only when nothing newer came", () => {
    const kept = new PendingTimelines(10);
    kept.merge("s", 1n, [entity("m", 1n, "v1"), entity("n", 1n, "n1")], 0);
    const [first] = kept.take(10, 10);
    kept.merge("s", 2n, [entity("m", 2n, "v2")], 11);
    // In flight: not taken twice, and the overlay shows the newest of both.
    expect(kept.take(100, 10)).toEqual([]);
    expect(kept.overlay("s", [])!.entities.map((e) => textOf(e))).toEqual(["v2", "n1"]);
    first!.failed();
    expect(ids(kept.take(100, 10))).toEqual([["s", 2n, ["v2", "n1"]]]);
    expect(kept.ordinal("s")).toBe(2n);
  });

  test("written forgets the session; a change merged meanwhile keeps it", () => {
    const kept = new PendingTimelines(10);
    kept.merge("s", 1n, [entity("m", 1n, "v1")], 0);
    const [first] = kept.take(10, 10);
    kept.merge("s", 2n, [entity("m", 2n, "v2")], 11);
    first!.written();
    expect(kept.ordinal("s")).toBe(2n);
    const [second] = kept.take(100, 10);
    second!.written();
    expect(kept.ordinal("s")).toBeUndefined();
    expect(kept.size).toBe(0);
  });

  test("a held session is never taken (its timeline is being replaced) until released", () => {
    const kept = new PendingTimelines(10);
    kept.merge("s", 1n, [entity("m", 1n, "v1")], 0);
    kept.merge("t", 1n, [entity("m", 1n, "t1")], 0);
    kept.hold("s");
    expect(ids(kept.take(100, 10, true))).toEqual([["t", 1n, ["t1"]]]);
    expect(kept.nextDue()).toBeUndefined();
    kept.release("s");
    expect(kept.nextDue()).toBe(10);
    expect(ids(kept.take(100, 10))).toEqual([["s", 1n, ["v1"]]]);
  });
});
