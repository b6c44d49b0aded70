// The live path (UI events as they stream) and the snapshot path (the
// durable timeline a reload gets) must tell the same story. The test kit
// (sessionstream/testing) runs the app on a memory store and checks it.
import { createTestHub } from "sessionstream/testing";
import { beforeAll, expect, test } from "vitest";
import { createApp, reduce } from "../src/app.js";
import { answerTokens, setTokenDelay } from "../src/fake-model.js";

beforeAll(() => setTokenDelay(1));

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function texts(snapshot: Awaited<ReturnType<ReturnType<typeof createApp>["snapshot"]>>) {
  return snapshot.entities.map((e) => {
    const p = e.payload as unknown as { role: string; text: string; status: string };
    return [p.role, p.text, p.status];
  });
}

test("live UI events and the snapshot agree on the streamed answer", async () => {
  const t = await createTestHub(createApp);
  await t.submit("s1", "ChatStartInference", { prompt: "What is an ordinal?" });
  await t.waitForEvent("s1", "ChatInferenceFinished");

  const live = t.uiEvents("s1");
  const answer = answerTokens("What is an ordinal?").join("");
  const streamed = live
    .filter((e) => e.name === "ChatMessageAppended")
    .map((e) => (e.payload as unknown as { text: string }).text)
    .join("");
  expect(streamed).toBe(answer);
  expect(live[0]!.name).toBe("ChatUserMessageAdded");

  const snapshot = await t.snapshot("s1");
  expect(texts(snapshot)).toEqual([
    ["user", "What is an ordinal?", "finished"],
    ["assistant", answer, "finished"],
  ]);
  expect(snapshot.snapshotOrdinal).toBe(BigInt(live.length));
});

test("the page's reducer shows what a reload shows at every ordinal, also after a disconnect and resume", async () => {
  const t = await createTestHub(createApp);
  await t.submit("s3", "ChatStartInference", { prompt: "Explain ordinals" });
  await t.waitForEvent("s3", "ChatInferenceFinished");
  await t.submit("s3", "ChatStartInference", { prompt: "And snapshots?" });
  await t.settle();
  // Replays the event log; at every ordinal the fold of live UI events with
  // public/reduce.js equals the snapshot, for a page that stayed connected and
  // for pages that dropped the connection at any ordinal (full and delta resume).
  const report = await t.expectLiveMatchesSnapshot("s3", { reduce });
  expect(report.events).toBeGreaterThan(10);
});

test("a snapshot taken mid-stream holds exactly one message in progress; stop ends it", async () => {
  setTokenDelay(20);
  const hub = createApp();
  await hub.submit("s2", "ChatStartInference", { prompt: "stream slowly" });
  // The answer's run starts the assistant's message after the command returned.
  await until(async () => ((await hub.snapshot("s2")).entities[1]?.payload as unknown as { text?: string } | undefined)?.text?.length! > 0, "a first token");
  const mid = texts(await hub.snapshot("s2"));
  expect(mid.filter(([, , status]) => status === "streaming")).toHaveLength(1);

  const messageId = (await hub.snapshot("s2")).entities[1]!.id;
  await hub.submit("s2", "ChatStopInference", { messageId });
  await until(async () => texts(await hub.snapshot("s2"))[1]![2] === "stopped", "the stop");
  const stopped = texts(await hub.snapshot("s2"))[1]!;
  expect(answerTokens("stream slowly").join("").startsWith(stopped[1]!)).toBe(true);
  expect(stopped[1]!.length).toBeLessThan(answerTokens("stream slowly").join("").length);
  setTokenDelay(1);
});
