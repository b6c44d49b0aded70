// Restart: a new process on the same SQLite file shows the same conversation,
// and the next event continues the session's ordinals.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteHydrationStore } from "sessionstream/store/sqlite";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createApp, registry } from "../src/app.js";
import { setTokenDelay } from "../src/fake-model.js";

const tmp = mkdtempSync(join(tmpdir(), "chat-restart-"));
beforeAll(() => setTokenDelay(1));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function statuses(snapshot: Awaited<ReturnType<ReturnType<typeof createApp>["snapshot"]>>): string[] {
  return snapshot.entities.map((e) => (e.payload as unknown as { status: string }).status);
}

test("a restart on the same SQLite file keeps the conversation and continues the ordinals", async () => {
  const path = join(tmp, "chat.sqlite");
  const first = createApp({ store: new SqliteHydrationStore({ path, registry }) });
  await first.submit("s1", "ChatStartInference", { prompt: "before the restart" });
  await until(async () => statuses(await first.snapshot("s1")).join() === "finished,finished", "the answer");
  const before = await first.snapshot("s1");
  await first.close();

  const ordinals: bigint[] = [];
  const second = createApp({ store: new SqliteHydrationStore({ path, registry }), fanout: { publishUI: (_s, ordinal) => void ordinals.push(ordinal) } });
  expect(await second.snapshot("s1")).toEqual(before);
  await second.submit("s1", "ChatStartInference", { prompt: "after the restart" });
  expect(ordinals[0]).toBe(before.snapshotOrdinal + 1n);
  await until(async () => statuses(await second.snapshot("s1")).every((s) => s === "finished") && (await second.snapshot("s1")).entities.length === 4, "the second answer");
  await second.close();
});
