// Every answer is a run (src/runs/chat-answer.ts): recorded in the store,
// stopped by a command, and ended by exactly one terminal event whatever
// happens: it finishes, is stopped, fails, or its process goes away
// (`interrupted`).
import { SessionstreamError } from "sessionstream";
import { createTestHub } from "sessionstream/testing";
import { beforeAll, expect, test } from "vitest";
import { createApp, reduce } from "../src/app.js";
import { answerTokens, setTokenDelay } from "../src/fake-model.js";
import { answerRunId } from "../src/runs/chat-answer.js";

beforeAll(() => setTokenDelay(1));

const TERMINAL = ["ChatInferenceFinished", "ChatInferenceStopped", "ChatInferenceFailed", "ChatInferenceInterrupted"];

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

type TestApp = Awaited<ReturnType<typeof createTestHub<any>>>;

/** The assistant messages of a session: id -> [status, text]. */
async function answers(t: TestApp, session: string): Promise<Record<string, [string, string]>> {
  const snap = await t.snapshot(session);
  return Object.fromEntries(
    snap.entities
      .map((e) => [e.id, e.payload as unknown as { role: string; status: string; text: string }] as const)
      .filter(([, p]) => p.role === "assistant")
      .map(([id, p]) => [id, [p.status, p.text]]),
  );
}

/** The terminal events of a session, as "<event> <messageId>". */
async function terminals(t: TestApp, session: string): Promise<string[]> {
  return (await t.events(session)).filter((e) => TERMINAL.includes(e.name)).map((e) => `${e.name} ${(e.payload as unknown as { messageId: string }).messageId}`);
}

/**
 * Every run of the session has ended and its terminal event is applied
 * (`awaitRuns` sees the store's state, which the run's hook follows).
 */
async function ended(t: TestApp, session: string) {
  const runs = await t.awaitRuns(session);
  await until(async () => (await terminals(t, session)).length >= runs.length, "the terminal events");
  return runs;
}

async function rejection(p: Promise<unknown>): Promise<SessionstreamError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SessionstreamError);
  return err as SessionstreamError;
}

test("an answer is a run: recorded running while it streams, finished with one terminal event carrying the finish reason", async () => {
  setTokenDelay(5);
  try {
    const t = await createTestHub(createApp);
    await t.submit("start", "ChatStartInference", { prompt: "hello" });
    // The command returned; the run is recorded and streams on its own.
    const [run] = await t.hub.runs("start");
    expect(run).toMatchObject({ kind: "chat.answer", state: "running", owner: t.hub.runOwner });
    const messageId = String(run!.data["messageId"]);
    expect(run!.runId).toBe(answerRunId(messageId));
    const [over] = await ended(t, "start");
    expect(over!.state).toBe("finished");
    expect(await answers(t, "start")).toEqual({ [messageId]: ["finished", answerTokens("hello").join("")] });
    expect(await terminals(t, "start")).toEqual([`ChatInferenceFinished ${messageId}`]);
    const finished = (await t.events("start")).find((e) => e.name === "ChatInferenceFinished")!;
    expect((finished.payload as unknown as { finishReason: string }).finishReason).toBe("stop");
  } finally {
    setTokenDelay(1);
  }
});

test("stop ends the answer once; a second stop and a stop of a finished answer fail with run_over, an unknown message with invalid_argument", async () => {
  setTokenDelay(20);
  try {
    const t = await createTestHub(createApp);
    await t.submit("stop", "ChatStartInference", { prompt: "stream slowly" });
    const messageId = String((await t.hub.runs("stop"))[0]!.data["messageId"]);
    await until(async () => ((await answers(t, "stop"))[messageId]?.[1] ?? "") !== "", "a first token");
    await t.submit("stop", "ChatStopInference", { messageId });
    // The stop is done when the command returns: the terminal event is applied.
    expect((await answers(t, "stop"))[messageId]![0]).toBe("stopped");
    expect((await t.hub.run(answerRunId(messageId)))!.state).toBe("stopped");

    const again = await rejection(t.submit("stop", "ChatStopInference", { messageId }));
    expect(again.code).toBe("run_over");
    expect(again.message).toMatch(/already ended \(stopped\)/);

    setTokenDelay(1);
    await t.submit("stop", "ChatStartInference", { prompt: "short" });
    const done = (await ended(t, "stop")).at(-1)!;
    const late = await rejection(t.submit("stop", "ChatStopInference", { messageId: String(done.data["messageId"]) }));
    expect(late.code).toBe("run_over");
    expect(late.message).toMatch(/already ended \(finished\)/);
    expect((await rejection(t.submit("stop", "ChatStopInference", { messageId: "assistant-nope" }))).code).toBe("invalid_argument");

    // Nothing streams after the stop; one terminal event per answer.
    const ordinal = (await t.snapshot("stop")).snapshotOrdinal;
    await new Promise((r) => setTimeout(r, 100));
    expect((await t.snapshot("stop")).snapshotOrdinal).toBe(ordinal);
    expect(await terminals(t, "stop")).toEqual([`ChatInferenceStopped ${messageId}`, `ChatInferenceFinished ${done.data["messageId"]}`]);
    await t.expectLiveMatchesSnapshot("stop", { reduce });
  } finally {
    setTokenDelay(1);
  }
});

test("two answers in one session run side by side; stopping one leaves the other streaming to the end", async () => {
  setTokenDelay(10);
  try {
    const t = await createTestHub(createApp);
    await t.submit("two", "ChatStartInference", { prompt: "first" });
    await t.submit("two", "ChatStartInference", { prompt: "second" });
    const [a, b] = (await t.hub.runs("two")).map((r) => String(r.data["messageId"]));
    await until(async () => {
      const both = Object.values(await answers(t, "two"));
      return both.length === 2 && both.every(([s, text]) => s === "streaming" && text !== "");
    }, "both answers streaming");
    expect((await t.hub.runs("two")).map((r) => r.state)).toEqual(["running", "running"]);
    await t.submit("two", "ChatStopInference", { messageId: a! });
    const runs = await ended(t, "two");
    expect(runs.map((r) => r.state)).toEqual(["stopped", "finished"]);
    expect((await answers(t, "two"))[b!]).toEqual(["finished", answerTokens("second").join("")]);
    expect(await terminals(t, "two")).toEqual([`ChatInferenceStopped ${a}`, `ChatInferenceFinished ${b}`]);
    await t.expectLiveMatchesSnapshot("two", { reduce });
  } finally {
    setTokenDelay(1);
  }
});

test("a stop with no message id stops every answer of the session, also answers that had not started streaming", async () => {
  setTokenDelay(10);
  try {
    const t = await createTestHub(createApp);
    await t.submit("all", "ChatStartInference", { prompt: "one" });
    await t.submit("all", "ChatStartInference", { prompt: "two" });
    await t.submit("all", "ChatStopInference", {});
    expect((await t.hub.runs("all")).map((r) => r.state)).toEqual(["stopped", "stopped"]);
    expect(Object.values(await answers(t, "all")).map(([s]) => s)).toEqual(["stopped", "stopped"]);
    await t.expectLiveMatchesSnapshot("all", { reduce });
  } finally {
    setTokenDelay(1);
  }
});

test("a model that fails mid-answer ends the run failed, with one ChatInferenceFailed keeping what streamed", async () => {
  const t = await createTestHub(createApp);
  await t.submit("fail", "ChatStartInference", { prompt: "please fail" });
  const [run] = await ended(t, "fail");
  expect(run).toMatchObject({ state: "failed", error: expect.stringMatching(/503/) });
  const messageId = String(run!.data["messageId"]);
  const [status, text] = (await answers(t, "fail"))[messageId]!;
  expect(status).toBe("failed");
  expect(text).toBe(answerTokens("please fail").slice(0, 3).join(""));
  expect(await terminals(t, "fail")).toEqual([`ChatInferenceFailed ${messageId}`]);
  const snap = await t.snapshot("fail");
  expect((snap.entities.find((e) => e.id === messageId)!.payload as unknown as { error: string }).error).toMatch(/503/);
  await t.expectLiveMatchesSnapshot("fail", { reduce });
});

test("shutting down mid-answer marks it interrupted (never streaming); the live fold agrees with the snapshot", async () => {
  setTokenDelay(20);
  try {
    const t = await createTestHub(createApp);
    await t.submit("shut", "ChatStartInference", { prompt: "long answer" });
    const messageId = String((await t.hub.runs("shut"))[0]!.data["messageId"]);
    await until(async () => ((await answers(t, "shut"))[messageId]?.[1] ?? "") !== "", "a first token");
    await t.hub.close({ runGraceMs: 0 });
    expect((await answers(t, "shut"))[messageId]![0]).toBe("interrupted");
    expect((await t.hub.run(answerRunId(messageId)))!.state).toBe("interrupted");
    expect(t.uiEvents("shut").at(-1)).toMatchObject({ name: "ChatMessageInterrupted" });
    await t.expectLiveMatchesSnapshot("shut", { reduce });
  } finally {
    setTokenDelay(1);
  }
});
