// The live path (UI events as they stream) and the snapshot path (the
// durable timeline a reload gets) must tell the same story.
import type { UIEvent } from "sessionstream";
import { beforeAll, expect, test } from "vitest";
import { createApp } from "../src/app.js";
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
  const live: UIEvent[] = [];
  const hub = createApp({ fanout: { publishUI: (_s, _o, events) => void live.push(...events) } });
  await hub.submit("s1", "ChatStartInference", { prompt: "What is an ordinal?" });
  await until(async () => live.some((e) => e.name === "ChatMessageFinished"), "the answer to finish");

  const answer = answerTokens("What is an ordinal?").join("");
  const streamed = live
    .filter((e) => e.name === "ChatMessageAppended")
    .map((e) => (e.payload as unknown as { text: string }).text)
    .join("");
  expect(streamed).toBe(answer);
  expect(live[0]!.name).toBe("ChatUserMessageAdded");

  const snapshot = await hub.snapshot("s1");
  expect(texts(snapshot)).toEqual([
    ["user", "What is an ordinal?", "finished"],
    ["assistant", answer, "finished"],
  ]);
  expect(snapshot.snapshotOrdinal).toBe(BigInt(live.length));
});

test("a snapshot taken mid-stream holds exactly one message in progress; stop ends it", async () => {
  setTokenDelay(20);
  const hub = createApp();
  await hub.submit("s2", "ChatStartInference", { prompt: "stream slowly" });
  await until(async () => ((await hub.snapshot("s2")).entities[1]?.payload as unknown as { text?: string })?.text !== "", "a first token");
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
