// A command handler's publisher starts and stops the runs of its session
// (CommandPublisher): the handler returns at once while the run streams, a
// stop command reaches the run (also one a dead process left in the store, or
// one of another live hub on the same store), a
// stop of a run that is over answers its state, and a command of one session
// never stops another session's run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect, test } from "vitest";
import { Hub, SchemaRegistry, type CommandPublisher, type HydrationStore, type RunRecord, type StopResult } from "../../src/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import {
  ChatMessageEntitySchema,
  ChatMessageUpdateSchema,
  StartInferenceCommandSchema,
  StopInferenceCommandSchema,
  TokensDeltaEventSchema,
} from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { tokens } from "../helpers/runs-app.js";
import { until } from "../helpers/until.js";

const tmp = mkdtempSync(join(tmpdir(), "ss-handler-runs-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function registry() {
  return new SchemaRegistry()
    .registerCommand("Start", StartInferenceCommandSchema)
    .registerCommand("Stop", StopInferenceCommandSchema)
    .registerCommand("StopAll", StopInferenceCommandSchema)
    .registerEvent("Token", TokensDeltaEventSchema)
    .registerEvent("Ended", TokensDeltaEventSchema)
    .registerUIEvent("MessageChanged", ChatMessageUpdateSchema)
    .registerTimelineEntity("Message", ChatMessageEntitySchema);
}
type Schema = ReturnType<typeof registry> extends SchemaRegistry<infer S> ? S : never;

const hubs: Hub<Schema>[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close({ runGraceMs: 0 })));
});

/** An app whose "Start" command starts a run streaming into message `prompt`, "Stop" stops run `messageId`, "StopAll" the session's runs. */
function app(store?: HydrationStore, leaseMs?: number) {
  const answers: { stop: StopResult[]; runs: RunRecord[] } = { stop: [], runs: [] };
  const publishers: CommandPublisher<Schema>[] = [];
  const hub = new Hub({ registry: registry(), ...(store ? { store } : {}), ...(leaseMs ? { runs: { leaseMs } } : {}) });
  hubs.push(hub);
  hub.registerRunKind("answer", {
    finished: (run, pub) => pub.publish("Ended", { messageId: String(run.data["messageId"]), chunk: "finished" }).then(() => {}),
    stopped: (run, pub) => pub.publish("Ended", { messageId: String(run.data["messageId"]), chunk: "stopped" }).then(() => {}),
    interrupted: (run, pub) => pub.publish("Ended", { messageId: String(run.data["messageId"]), chunk: "interrupted" }).then(() => {}),
  });
  hub.registerCommand("Start", async (cmd, _session, pub) => {
    publishers.push(pub);
    const messageId = cmd.payload.prompt;
    const count = messageId.startsWith("short") ? 2 : Infinity;
    await pub.startRun({ kind: "answer", runId: `run-${messageId}`, data: { messageId } }, tokens(messageId, count, 2));
  });
  hub.registerCommand("Stop", async (cmd, _session, pub) => {
    answers.stop.push(await pub.stopRun(cmd.payload.messageId));
    answers.runs = await pub.runs();
  });
  hub.registerCommand("StopAll", async (_cmd, _session, pub) => {
    answers.stop.push(...(await pub.stopRuns()));
  });
  hub.registerTimelineProjection((ev, _s, view) => {
    const prev = view.get("Message", ev.payload.messageId)?.payload as { text?: string } | undefined;
    const text = (prev?.text ?? "") + (ev.name === "Token" ? ev.payload.chunk : "");
    return [{ kind: "Message", id: ev.payload.messageId, payload: { messageId: ev.payload.messageId, text, status: ev.name === "Token" ? "streaming" : ev.payload.chunk } }];
  });
  return { hub, answers, publishers };
}

async function statuses(hub: Hub<Schema>, sessionId: string): Promise<Record<string, string>> {
  const snap = await hub.snapshot(sessionId);
  return Object.fromEntries(snap.entities.map((e) => [e.id, (e.payload as unknown as { status: string }).status]));
}

test("a handler starts a run and returns at once; its publisher is bound to the command's session", async () => {
  const { hub, publishers } = app();
  await hub.submit("s1", "Start", { prompt: "short-a" });
  expect(publishers[0]!.sessionId).toBe("s1");
  // The handler has returned; the run is recorded and finishes on its own.
  const [run] = await hub.runs("s1");
  expect(run).toMatchObject({ runId: "run-short-a", sessionId: "s1", kind: "answer", owner: hub.runOwner, data: { messageId: "short-a" } });
  await until(async () => (await statuses(hub, "s1"))["short-a"] === "finished", "the run to finish");
  expect((await hub.run("run-short-a"))!.state).toBe("finished");
  expect((await publishers[0]!.runs()).map((r) => r.state)).toEqual(["finished"]);
});

test("stopRun from a handler stops the session's run once; a second stop, and a stop of a finished run, answer the state", async () => {
  const { hub, answers } = app();
  await hub.submit("s2", "Start", { prompt: "long" });
  await hub.submit("s2", "Start", { prompt: "short-b" });
  await until(async () => (await statuses(hub, "s2"))["long"] === "streaming", "a first token");
  await until(async () => (await statuses(hub, "s2"))["short-b"] === "finished", "the short run to finish");
  await hub.submit("s2", "Stop", { messageId: "run-long" });
  await hub.submit("s2", "Stop", { messageId: "run-long" });
  await hub.submit("s2", "Stop", { messageId: "run-short-b" });
  await hub.submit("s2", "Stop", { messageId: "run-nope" });
  expect(answers.stop).toEqual([
    { runId: "run-long", stopped: true, state: "stopped" },
    { runId: "run-long", stopped: false, state: "stopped" },
    { runId: "run-short-b", stopped: false, state: "finished" },
    { runId: "run-nope", stopped: false, state: "unknown" },
  ]);
  expect(answers.runs.map((r) => [r.runId, r.state])).toEqual([
    ["run-long", "stopped"],
    ["run-short-b", "finished"],
  ]);
  expect(await statuses(hub, "s2")).toEqual({ long: "stopped", "short-b": "finished" });
});

test("a command of one session never stops another session's run; stopRuns stops every run of its own session", async () => {
  const { hub, answers } = app();
  await hub.submit("a", "Start", { prompt: "x" });
  await hub.submit("b", "Start", { prompt: "y" });
  await hub.submit("b", "Start", { prompt: "z" });
  await until(async () => (await statuses(hub, "b"))["z"] === "streaming" && (await statuses(hub, "a"))["x"] === "streaming", "tokens");
  await hub.submit("b", "Stop", { messageId: "run-x" });
  expect(answers.stop.pop()).toEqual({ runId: "run-x", stopped: false, state: "unknown" });
  expect((await hub.run("run-x"))!.state).toBe("running");
  await hub.submit("b", "StopAll", {});
  expect(answers.stop.map((r) => [r.runId, r.stopped, r.state]).sort()).toEqual([
    ["run-y", true, "stopped"],
    ["run-z", true, "stopped"],
  ]);
  expect(await statuses(hub, "b")).toEqual({ y: "stopped", z: "stopped" });
  expect((await hub.run("run-x"))!.state).toBe("running");
  answers.stop.length = 0;
  await hub.submit("b", "StopAll", {});
  expect(answers.stop).toEqual([]);
});

test("a stop command on another hub over the same store reaches a live hub's run: requested, then ended at the owner's heartbeat", async () => {
  const path = join(tmp, "two-hubs.sqlite");
  const owner = app(new SqliteHydrationStore({ path, registry: registry() }), 300);
  const other = app(new SqliteHydrationStore({ path, registry: registry() }), 300);
  await owner.hub.submit("r", "Start", { prompt: "m" });
  await until(async () => (await statuses(owner.hub, "r"))["m"] === "streaming", "a first token");
  await other.hub.submit("r", "Stop", { messageId: "run-m" });
  expect(other.answers.stop).toEqual([{ runId: "run-m", stopped: false, state: "running", requested: true }]);
  // The store says stopped first; the owner's hook then publishes the terminal event.
  await until(async () => (await owner.hub.run("run-m"))!.state === "stopped", "the owner to stop it", 5000);
  await until(async () => (await statuses(owner.hub, "r"))["m"] === "stopped", "the terminal event", 5000);
  expect((await owner.hub.runs("r")).map((r) => r.state)).toEqual(["stopped"]);
});

test("a stop command reaches a run whose owner is gone (its lease expired) and ends it stopped, exactly once", async () => {
  const path = join(tmp, "orphan.sqlite");
  const store = new SqliteHydrationStore({ path, registry: registry() });
  await store.createRun({
    runId: "run-o",
    sessionId: "o",
    kind: "answer",
    owner: "a-host-that-is-gone:1:x",
    state: "running",
    data: { messageId: "o" },
    startedAt: 1,
    heartbeatAt: 1,
    stopRequested: false,
  });
  await store.close();
  const { hub, answers } = app(new SqliteHydrationStore({ path, registry: registry() }));
  await hub.submit("o", "Stop", { messageId: "run-o" });
  await hub.submit("o", "Stop", { messageId: "run-o" });
  expect(answers.stop).toEqual([
    { runId: "run-o", stopped: true, state: "stopped" },
    { runId: "run-o", stopped: false, state: "stopped" },
  ]);
  expect(await statuses(hub, "o")).toEqual({ o: "stopped" });
});

test("the finished hook receives what the work resolved with (e.g. a model's finish reason)", async () => {
  const hub = new Hub({ registry: registry() });
  hubs.push(hub);
  const results: unknown[] = [];
  hub.registerRunKind("answer", { finished: (_run, _pub, result) => void results.push(result) });
  const handle = await hub.startRun("f", { kind: "answer" }, async () => "length");
  expect(await handle.done).toBe("finished");
  expect(results).toEqual(["length"]);
});
