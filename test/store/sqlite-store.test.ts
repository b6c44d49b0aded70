import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test, vi } from "vitest";
import { SessionstreamError } from "../../src/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import { SCHEMA_VERSION } from "../../src/store/sqlite/schema.js";
import { chatHub, chatRegistry } from "../helpers/chat-app.js";

const dir = mkdtempSync(join(tmpdir(), "ss-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `db${++n}`, "app.sqlite");

function open(path: string, tokens?: string[], writer: "main" | "thread" = "main") {
  const registry = chatRegistry();
  const store = new SqliteHydrationStore({ path, registry, writer });
  return { store, hub: chatHub({ store, registry, ...(tokens ? { tokens } : {}) }) };
}

// The contract tests (restart, rebuild, kill -9 of a writer or a rebuild) run
// over every store in store-contract.test.ts; these are SQLite-specific.
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

  test.each(["main", "thread"] as const)("writer %s: a full disk rejects publish with the cause and leaves the store consistent", async (writer) => {
    const { store, hub } = open(freshPath(), [], writer);
    const pub = hub.publisher("s");
    await pub.publish("ChatInferenceStarted", { messageId: "m1", prompt: "small" });
    const db = store.database;
    // On every connection: the writer thread's is the one that commits.
    await store.pragma(`max_page_count = ${Number(db.pragma("page_count", { simple: true }))}`);
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
    await store.pragma("max_page_count = 1073741823");
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

  test("a schema version 2 file (WITHOUT ROWID tables) is upgraded to rowid tables, every row kept", async () => {
    // Rows written by this store into one file...
    const source = freshPath();
    const { store, hub } = open(source, []);
    const pub = hub.publisher("s");
    await pub.publish("ChatInferenceStarted", { messageId: "m1", prompt: "p" });
    await pub.publish("ChatTokensDelta", { messageId: "m1", chunk: "a" });
    await pub.publish("ChatTokensDelta", { messageId: "m1", chunk: "b" });
    const before = { events: await store.readEvents("s", 0n), snapshot: await store.snapshot("s") };
    await store.close();
    // ...copied into a file in the version 2 schema.
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const v2 = new Database(path);
    v2.exec(readFileSync(new URL("../../fixtures/store/sqlite-schema-v2.sql", import.meta.url), "utf8"));
    v2.exec(`ATTACH '${source}' AS source`);
    for (const table of ["ss_sessions", "ss_events", "ss_entities"]) v2.exec(`INSERT INTO main.${table} SELECT * FROM source.${table}`);
    v2.exec("DETACH source");
    v2.pragma("user_version = 2");
    v2.close();

    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const upgraded = new SqliteHydrationStore({ path, registry: chatRegistry() });
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/upgrading .* from schema 2 to 3/));
    logged.mockRestore();
    const db = upgraded.database;
    expect(Number(db.pragma("user_version", { simple: true }))).toBe(SCHEMA_VERSION);
    const ddl = (table: string) => (db.prepare("SELECT sql FROM sqlite_master WHERE name = ?").get(table) as { sql: string }).sql;
    expect(ddl("ss_events")).not.toMatch(/WITHOUT ROWID/);
    expect(ddl("ss_entities")).not.toMatch(/WITHOUT ROWID/);
    expect(ddl("ss_entities_changed")).toMatch(/ON ss_entities/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE '%_v2'").all()).toEqual([]);
    expect(await upgraded.readEvents("s", 0n)).toEqual(before.events);
    expect(await upgraded.snapshot("s")).toEqual(before.snapshot);
    expect((await upgraded.snapshot("s", { changedAfter: 2n })).entities.map((e) => e.id)).toEqual(["m1"]);
    // And it goes on: the next event takes the next ordinal.
    const next = chatHub({ store: upgraded, registry: chatRegistry(), tokens: [] });
    expect(await next.publisher("s").publish("ChatInferenceFinished", { messageId: "m1" })).toBe(4n);
    await upgraded.close();
  });
});
