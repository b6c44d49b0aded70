// Every agent run is a hub run (src/runs/agent-run.ts): recorded in the
// store, stopped by a command, and ended by exactly one `AgentRunEnded`
// whatever happens: it finishes, is stopped, fails, or its process goes away
// (`interrupted`).
import { SessionstreamError } from "sessionstream";
import { createTestHub } from "sessionstream/testing";
import { beforeAll, expect, test } from "vitest";
import { createApp, reduce, registry } from "../src/app.js";
import { setStepDelay } from "../src/fake-agent.js";

beforeAll(() => setStepDelay(1));

type TestApp = Awaited<ReturnType<typeof createTestHub<any>>>;

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Entities of `kind` as protobuf JSON, by id. */
async function ofKind(t: TestApp, session: string, kind: string): Promise<Record<string, Record<string, any>>> {
  const snap = await t.snapshot(session);
  return Object.fromEntries(snap.entities.filter((e) => e.kind === kind).map((e) => [e.id, registry.toJson("entities", e.kind as never, e.payload as never) as Record<string, any>]));
}

/** The `AgentRunEnded` events of a session, as "<runId> <status>". */
async function ends(t: TestApp, session: string): Promise<string[]> {
  return (await t.events(session)).filter((e) => e.name === "AgentRunEnded").map((e) => {
    const p = e.payload as unknown as { runId: string; status: string };
    return `${p.runId} ${p.status}`;
  });
}

/**
 * Every run of the session has ended and its `AgentRunEnded` is applied
 * (`awaitRuns` sees the store's state, which the run's hook follows).
 */
async function ended(t: TestApp, session: string) {
  const runs = await t.awaitRuns(session);
  await until(async () => (await ends(t, session)).length >= runs.length, "the terminal events");
  return runs;
}

async function rejection(p: Promise<unknown>): Promise<SessionstreamError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(SessionstreamError);
  return err as SessionstreamError;
}

test("a run is recorded running while it streams and ends finished with one AgentRunEnded", async () => {
  const t = await createTestHub(createApp);
  await t.submit("start", "AgentStartRun", { prompt: "weather in Rome" });
  const [run] = await t.hub.runs("start");
  expect(run).toMatchObject({ kind: "agent.run", state: "running", owner: t.hub.runOwner });
  const runId = run!.runId;
  expect((await ended(t, "start"))[0]!.state).toBe("finished");
  expect((await ofKind(t, "start", "AgentRun"))[runId]).toMatchObject({ status: "finished", finishReason: "stop" });
  expect(await ends(t, "start")).toEqual([`${runId} finished`]);
});

test("stop ends a run once; a second stop and a stop of a finished run fail with run_over, an unknown run with invalid_argument", async () => {
  setStepDelay(20);
  try {
    const t = await createTestHub(createApp);
    await t.submit("stop", "AgentStartRun", { prompt: "weather in Oslo" });
    const runId = (await t.hub.runs("stop"))[0]!.runId;
    await until(async () => Object.keys(await ofKind(t, "stop", "AgentReasoning")).length > 0, "a first reasoning chunk");
    await t.submit("stop", "AgentStopRun", { runId });
    expect((await ofKind(t, "stop", "AgentRun"))[runId]!["status"]).toBe("stopped");
    const again = await rejection(t.submit("stop", "AgentStopRun", { runId }));
    expect([again.code, again.message]).toEqual(["run_over", `the run "${runId}" already ended (stopped): nothing to stop`]);

    setStepDelay(1);
    await t.submit("stop", "AgentStartRun", { prompt: "weather in Paris" });
    const done = (await ended(t, "stop")).at(-1)!;
    expect(done.state).toBe("finished");
    expect((await rejection(t.submit("stop", "AgentStopRun", { runId: done.runId }))).message).toMatch(/already ended \(finished\)/);
    expect((await rejection(t.submit("stop", "AgentStopRun", { runId: "run-nope" }))).code).toBe("invalid_argument");
    expect(await ends(t, "stop")).toEqual([`${runId} stopped`, `${done.runId} finished`]);
    await t.expectLiveMatchesSnapshot("stop", { reduce });
  } finally {
    setStepDelay(1);
  }
});

test("two runs in one session run side by side; stopping one leaves the other to finish", async () => {
  setStepDelay(10);
  try {
    const t = await createTestHub(createApp);
    await t.submit("two", "AgentStartRun", { prompt: "weather in Rome" });
    await t.submit("two", "AgentStartRun", { prompt: "weather in Lima" });
    const [a, b] = (await t.hub.runs("two")).map((r) => r.runId);
    await until(async () => Object.keys(await ofKind(t, "two", "AgentPlan")).length === 2, "both plans");
    await t.submit("two", "AgentStopRun", { runId: a! });
    expect((await ended(t, "two")).map((r) => r.state)).toEqual(["stopped", "finished"]);
    expect(await ends(t, "two")).toEqual([`${a} stopped`, `${b} finished`]);
    await t.expectLiveMatchesSnapshot("two", { reduce });
  } finally {
    setStepDelay(1);
  }
});

test("a model failure ends the run failed, with one AgentRunEnded carrying the error", async () => {
  const t = await createTestHub(createApp);
  await t.submit("fail", "AgentStartRun", { prompt: "please fail" });
  const [run] = await ended(t, "fail");
  expect(run).toMatchObject({ state: "failed", error: expect.stringMatching(/503/) });
  expect(await ends(t, "fail")).toEqual([`${run!.runId} failed`]);
  expect(Object.values(await ofKind(t, "fail", "AgentError")).map((e) => e["message"])).toEqual([expect.stringMatching(/503/)]);
});

test("shutting down mid-run marks the run, its answer and its open plan steps interrupted", async () => {
  setStepDelay(10);
  try {
    const t = await createTestHub(createApp);
    await t.submit("shut", "AgentStartRun", { prompt: "weather in Kyiv" });
    const runId = (await t.hub.runs("shut"))[0]!.runId;
    await until(async () => Object.values(await ofKind(t, "shut", "AgentMessage")).some((m) => m["role"] === "assistant"), "the answer to stream");
    await t.hub.close({ runGraceMs: 0 });
    expect((await ofKind(t, "shut", "AgentRun"))[runId]!["status"]).toBe("interrupted");
    expect(Object.values(await ofKind(t, "shut", "AgentMessage")).find((m) => m["role"] === "assistant")!["status"]).toBe("interrupted");
    const all = (await t.snapshot("shut")).entities.map((e) => registry.toJson("entities", e.kind as never, e.payload as never));
    expect(JSON.stringify(all)).not.toMatch(/"(running|streaming)"/);
    expect(await ends(t, "shut")).toEqual([`${runId} interrupted`]);
    await t.expectLiveMatchesSnapshot("shut", { reduce });
  } finally {
    setStepDelay(1);
  }
});

test("a run that ends in the middle of a tool call leaves no call running", async () => {
  setStepDelay(30);
  try {
    const t = await createTestHub(createApp);
    await t.submit("call", "AgentStartRun", { prompt: "weather in Rome" });
    await until(async () => Object.values(await ofKind(t, "call", "AgentToolCall")).some((c) => c["status"] === "running"), "a running tool call");
    await t.hub.close({ runGraceMs: 0 });
    expect(Object.values(await ofKind(t, "call", "AgentToolCall")).map((c) => c["status"])).toEqual(["interrupted"]);
    await t.expectLiveMatchesSnapshot("call", { reduce });
  } finally {
    setStepDelay(1);
  }
});
