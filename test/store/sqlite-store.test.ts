import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { SessionstreamError } from "../../src/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import { chatHub, chatRegistry } from "../helpers/chat-app.js";

const dir = mkdtempSync(join(tmpdir(), "ss-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `db${++n}`, "app.sqlite");

function open(path: string, tokens?: string[]) {
  const registry = chatRegistry();
  const store = new SqliteHydrationStore({ path, registry });
  return { store, hub: chatHub({ store, registry, ...(tokens ? { tokens } : {}) }) };
}

describe("SqliteHydrationStore", () => {
  test("uses WAL and creates parent folders", async () => {
    const { store } = open(freshPath());
    expect(store.database.pragma("journal_mode", { simple: true })).toBe("wal");
    await store.close();
  });

  test("a store built without a registry is bound by the hub", async () => {
    const path = freshPath();
    const store = new SqliteHydrationStore({ path });
    await expect(store.snapshot("s")).resolves.toMatchObject({ snapshotOrdinal: 0n });
    const hub = chatHub({ store, tokens: ["a"] });
    await hub.submit("s", "ChatStartInference", { prompt: "p" });
    expect((await store.snapshot("s")).entities[0]!.payload.$typeName).toBe("chat.v1.ChatMessageEntity");
    await store.close();
  });

  test("restart continues ordinals and returns the identical snapshot", async () => {
    const path = freshPath();
    const a = open(path, ["one ", "two"]);
    await a.hub.submit("s", "ChatStartInference", { prompt: "first" });
    await a.hub.publisher("other").publish("ChatInferenceStarted", { messageId: "x", prompt: "p" });
    const before = await a.hub.snapshot("s");
    await a.hub.close();
    await a.store.close();

    const b = open(path, ["three"]);
    expect(await b.hub.cursor("s")).toBe(4n);
    expect(await b.hub.snapshot("s")).toEqual(before);
    expect(await b.hub.publisher("s").publish("ChatMessageDeleted", { messageId: "m1" })).toBe(5n);
    expect(await b.hub.cursor("other")).toBe(1n);
    expect(await b.store.listSessions()).toEqual([
      { sessionId: "other", cursor: 1n },
      { sessionId: "s", cursor: 5n },
    ]);
    await b.store.close();
  });

  test("the event log pages after an ordinal; rebuildTimeline reproduces the snapshot exactly", async () => {
    const { store, hub } = open(freshPath(), ["a", "b", "c"]);
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
    expect(await store.timelineEpoch("s")).toBe(1n);
    expect(before.epoch).toBe(1n);
    expect(await hub.rebuildTimeline("s")).toEqual({ ...before, epoch: 2n });
    expect(await store.timelineEpoch("s")).toBe(2n);
    expect(await store.timelineCursor("s")).toBe(11n);
    // A delta snapshot carries the tombstone.
    const delta = await hub.snapshot("s", { changedAfter: 10n });
    expect(delta.entities.map((e) => [e.id, e.tombstone])).toEqual([["m2", true]]);
    await store.close();
  });

  test("a full disk rejects publish with the cause and leaves the store consistent", async () => {
    const { store, hub } = open(freshPath(), []);
    const pub = hub.publisher("s");
    await pub.publish("ChatInferenceStarted", { messageId: "m1", prompt: "small" });
    const db = store.database;
    db.pragma(`max_page_count = ${Number(db.pragma("page_count", { simple: true }))}`);
    let err: SessionstreamError | undefined;
    try {
      await pub.publish("ChatTokensDelta", { messageId: "m1", chunk: "x".repeat(200_000) });
    } catch (e) {
      err = e as SessionstreamError;
    }
    expect(err?.code).toBe("store_failed");
    expect(err?.message).toMatch(/^store write failed for event "ChatTokensDelta" \(ordinal 2\) in session "s": database or disk is full/);
    expect((err?.cause as { code?: string }).code).toBe("SQLITE_FULL");

    // Consistent: cursor = last event; no entity ahead of its event.
    const events = db.prepare("SELECT count(*) AS n, max(ordinal) AS m FROM ss_events WHERE session_id = 's'").get() as { n: bigint; m: bigint };
    expect(events).toEqual({ n: 1n, m: 1n });
    expect(await store.cursor("s")).toBe(1n);
    const ahead = db.prepare("SELECT count(*) AS n FROM ss_entities WHERE last_event_ordinal > 1").get() as { n: bigint };
    expect(ahead.n).toBe(0n);

    // Space comes back: the next event gets the ordinal that failed (it was never acknowledged).
    db.pragma("max_page_count = 1073741823");
    expect(await pub.publish("ChatTokensDelta", { messageId: "m1", chunk: "ok" })).toBe(2n);
    expect(((await hub.snapshot("s")).entities[0]!.payload as unknown as { text: string }).text).toBe("ok");
    await store.close();
  });

  test("a closed database rejects publish with store_failed", async () => {
    const { store, hub } = open(freshPath(), []);
    await hub.publisher("s").publish("ChatInferenceStarted", { messageId: "m", prompt: "p" });
    await store.close();
    const err = await hub.publisher("s").publish("ChatInferenceFinished", { messageId: "m" }).catch((e: SessionstreamError) => e);
    expect((err as SessionstreamError).code).toBe("store_failed");
    expect((err as Error).message).toMatch(/The database connection is not open/);
  });

  test("a killed writer process loses no acknowledged event", async () => {
    const path = freshPath();
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../../fixtures/runtime/sqlite-writer.ts"), path], {
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

    const { store, hub } = open(path);
    const cursor = await hub.cursor("crash-session");
    expect(cursor >= acked).toBe(true);
    const events = await store.readEvents("crash-session", 0n, 1_000_000);
    expect(events.map((e) => e.ordinal)).toEqual(Array.from({ length: Number(cursor) }, (_, i) => BigInt(i + 1)));
    // The timeline matches the log: every delta chunk is in the message text.
    const text = ((await hub.snapshot("crash-session")).entities[0]!.payload as unknown as { text: string }).text;
    expect(text.split(" ").filter(Boolean)).toHaveLength(Number(cursor) - 1);
    const beforeRebuild = await hub.snapshot("crash-session");
    expect(await hub.rebuildTimeline("crash-session")).toEqual({ ...beforeRebuild, epoch: beforeRebuild.epoch! + 1n });
    await store.close();
  });
});

describe("rebuildTimeline survives kill -9", () => {
  const rebuilder = join(import.meta.dirname, "../../fixtures/runtime/sqlite-rebuilder.ts");
  function run(args: string[], killAfterMs?: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", rebuilder, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (killAfterMs !== undefined && out.includes("rebuilding")) setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      });
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.on("close", (code, signal) => (code === 0 || signal === "SIGKILL" ? resolve(out) : reject(new Error(`rebuilder failed (${code}): ${err}`))));
    });
  }

  test("a crash at any moment of a rebuild leaves the old or the fully rebuilt timeline", async () => {
    const path = freshPath();
    const events = 3000;
    await run([path, "seed", String(events)]);
    const seen = new Set<string>();
    for (const delay of [5, 20, 50, 100, 1000]) {
      const out = await run([path, "rebuild"], delay);
      const { store, hub } = open(path);
      const snap = await hub.snapshot("s");
      const text = (snap.entities[0]!.payload as unknown as { text: string }).text;
      // Old (1 per event) or rebuilt (2 per event), nothing in between, and the cursors agree.
      expect([String(events), String(2 * events)]).toContain(text);
      expect(snap.snapshotOrdinal).toBe(BigInt(events));
      expect(await store.timelineCursor("s")).toBe(BigInt(events));
      seen.add(`${text}${out.includes("rebuilt") ? " (finished)" : " (killed)"}`);
      await store.close();
    }
    // At least one kill landed mid-rebuild (the old timeline survived it).
    expect([...seen]).toContain(`${events} (killed)`);
  }, 120_000);
});
