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
});
