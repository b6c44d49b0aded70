// Runs in one process (memory store): start returns at once, stop aborts at
// once and ends the run exactly once, a stop of an ended run says so, a
// throwing run ends failed, a dead owner's runs are interrupted by recovery,
// close waits up to a grace period then interrupts, and a stop reaches a run
// of another live hub through the store.
import { hostname } from "node:os";
import { afterEach, expect, test } from "vitest";
import { MemoryHydrationStore, SessionstreamError, type Hub } from "../../src/index.js";
import { runsHub, statuses, tokens, type RunsSchema } from "../helpers/runs-app.js";
import { until } from "../helpers/until.js";

const hubs: Hub<RunsSchema>[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close({ runGraceMs: 0 })));
});
function hub(...args: Parameters<typeof runsHub>) {
  const h = runsHub(...args);
  hubs.push(h);
  return h;
}

function ended(h: Hub<RunsSchema>, sessionId: string) {
  const seen: string[] = [];
  h.observe((a) => {
    const payload = a.event.payload as unknown as { messageId: string; chunk: string };
    if (a.event.sessionId === sessionId && a.event.name === "Ended") seen.push(`${payload.messageId}:${payload.chunk}`);
  });
  return seen;
}

test("startRun resolves with the run id before the work has run; the run is recorded with its owner and ends finished through the hook", async () => {
  const h = hub();
  const terminal = ended(h, "s1");
  let started = false;
  const handle = await h.startRun("s1", { kind: "answer", data: { messageId: "m1" } }, async (ctx) => {
    started = true;
    await tokens("m1", 3, 1)(ctx);
  });
  expect(started).toBe(false);
  expect(handle.runId).toMatch(/^run_/);
  const recorded = await h.run(handle.runId);
  expect(recorded).toMatchObject({ runId: handle.runId, sessionId: "s1", kind: "answer", state: "running", owner: h.runOwner, data: { messageId: "m1" } });
  expect(h.runOwner).toMatch(new RegExp(`^${hostname()}:${process.pid}:`));
  expect(await handle.done).toBe("finished");
  expect((await h.run(handle.runId))!.state).toBe("finished");
  expect(terminal).toEqual(["m1:finished"]);
  expect(await statuses(h, "s1")).toEqual({ m1: "finished" });
  expect(await h.stopRun(handle.runId)).toEqual({ runId: handle.runId, stopped: false, state: "finished" });
});

test("stopRun aborts the signal at once, publishes the terminal events exactly once and refuses later publishes", async () => {
  const h = hub();
  const terminal = ended(h, "s2");
  let reason: unknown;
  let late: unknown;
  const handle = await h.startRun("s2", { kind: "answer", data: { messageId: "m1" } }, async ({ signal, publish }) => {
    await publish("Token", { messageId: "m1", chunk: "a " });
    await new Promise((r) => signal.addEventListener("abort", r));
    reason = signal.reason;
    late = await publish("Token", { messageId: "m1", chunk: "late" }).catch((e: unknown) => e);
  });
  await until(async () => (await statuses(h, "s2"))["m1"] === "streaming", "a first token");
  const [first, second] = await Promise.all([h.stopRun(handle.runId), h.stopRun(handle.runId)]);
  expect(first).toEqual({ runId: handle.runId, stopped: true, state: "stopped" });
  expect(second).toEqual({ runId: handle.runId, stopped: false, state: "stopped" });
  expect(reason).toBeInstanceOf(SessionstreamError);
  expect(await handle.done).toBe("stopped");
  await until(() => late !== undefined, "the late publish to settle");
  expect((late as SessionstreamError).code).toBe("run_over");
  expect(terminal).toEqual(["m1:stopped"]);
  expect(await statuses(h, "s2")).toEqual({ m1: "stopped" });
  expect(await h.stopRun(handle.runId)).toEqual({ runId: handle.runId, stopped: false, state: "stopped" });
  expect(await h.stopRun("run_nope")).toEqual({ runId: "run_nope", stopped: false, state: "unknown" });
});

test("two runs in one session; stopRuns stops both, a run that throws ends failed with its terminal events", async () => {
  const h = hub();
  const terminal = ended(h, "s3");
  const a = await h.startRun("s3", { kind: "answer", data: { messageId: "a" } }, tokens("a", Infinity, 5));
  const b = await h.startRun("s3", { kind: "answer", data: { messageId: "b" } }, tokens("b", Infinity, 5));
  expect((await h.runs("s3")).map((r) => [r.runId, r.state])).toEqual([
    [a.runId, "running"],
    [b.runId, "running"],
  ]);
  const results = await h.stopRuns("s3");
  expect(results.map((r) => r.stopped)).toEqual([true, true]);
  expect((await h.runs("s3")).map((r) => r.state)).toEqual(["stopped", "stopped"]);

  const c = await h.startRun("s3", { kind: "answer", data: { messageId: "c" } }, async () => {
    throw new Error("model unavailable");
  });
  expect(await c.done).toBe("failed");
  expect(await h.run(c.runId)).toMatchObject({ state: "failed", error: "model unavailable" });
  expect(terminal.sort()).toEqual(["a:stopped", "b:stopped", "c:failed"]);
  expect(await statuses(h, "s3")).toEqual({ a: "stopped", b: "stopped", c: "failed" });
  await expect(h.startRun("s3", { kind: "nope" }, async () => {})).rejects.toMatchObject({ code: "unknown_run_kind" });
});

test("recoverRuns interrupts runs of a dead process on this host at once, of a live one only after its lease", async () => {
  const store = new MemoryHydrationStore();
  let now = 1_000_000;
  const base = { sessionId: "s4", kind: "answer", state: "running" as const, startedAt: now, heartbeatAt: now, stopRequested: false };
  await store.createRun({ ...base, runId: "dead", owner: `${hostname()}:2147483646:x`, data: { messageId: "dead" } });
  await store.createRun({ ...base, runId: "alive", owner: `${hostname()}:${process.pid}:other`, data: { messageId: "alive" } });
  await store.createRun({ ...base, runId: "remote", owner: "another-host:1:y", data: { messageId: "remote" } });
  const h = hub({ store, hubOptions: { clock: () => now, runs: { leaseMs: 60_000 } } });
  const terminal = ended(h, "s4");
  expect((await h.recoverRuns()).map((r) => r.runId)).toEqual(["dead"]);
  expect(terminal).toEqual(["dead:interrupted"]);
  expect((await h.recoverRuns()).map((r) => r.runId)).toEqual([]);
  now += 60_001;
  expect((await h.recoverRuns()).map((r) => r.runId).sort()).toEqual(["alive", "remote"]);
  expect(await statuses(h, "s4")).toEqual({ dead: "interrupted", alive: "interrupted", remote: "interrupted" });
  expect(await h.stopRun("dead")).toEqual({ runId: "dead", stopped: false, state: "interrupted" });
});

test("a stop of a dead process's run ends it stopped here (a stop after a restart works)", async () => {
  const store = new MemoryHydrationStore();
  await store.createRun({ runId: "r", sessionId: "s5", kind: "answer", owner: `${hostname()}:2147483646:x`, state: "running", data: { messageId: "m" }, startedAt: 1, heartbeatAt: Date.now(), stopRequested: false });
  const h = hub({ store });
  expect(await h.stopRun("r")).toEqual({ runId: "r", stopped: true, state: "stopped" });
  expect(await statuses(h, "s5")).toEqual({ m: "stopped" });
});

test("a stop reaches a run of another live hub through the store; the owner ends it at its next heartbeat", async () => {
  const store = new MemoryHydrationStore();
  const owner = hub({ store, hubOptions: { runs: { leaseMs: 90 } } });
  const other = hub({ store, hubOptions: { runs: { leaseMs: 90 } } });
  const handle = await owner.startRun("s6", { kind: "answer", data: { messageId: "m" } }, tokens("m", Infinity, 5));
  expect(await other.stopRun(handle.runId)).toEqual({ runId: handle.runId, stopped: false, state: "running", requested: true });
  expect(await handle.done).toBe("stopped");
  expect(await statuses(owner, "s6")).toEqual({ m: "stopped" });
});

test("close waits up to the grace period: a run that ends in time finishes, the rest are interrupted; commands are refused meanwhile", async () => {
  const h = runsHub();
  const quick = await h.startRun("s7", { kind: "answer", data: { messageId: "quick" } }, tokens("quick", 3, 5));
  const slow = await h.startRun("s7", { kind: "answer", data: { messageId: "slow" } }, tokens("slow", Infinity, 5));
  const closing = h.close({ runGraceMs: 300 });
  await expect(h.startRun("s7", { kind: "answer" }, async () => {})).rejects.toMatchObject({ code: "closed" });
  await closing;
  expect(await quick.done).toBe("finished");
  expect(await slow.done).toBe("interrupted");
  expect(await statuses(h, "s7")).toEqual({ quick: "finished", slow: "interrupted" });
});
