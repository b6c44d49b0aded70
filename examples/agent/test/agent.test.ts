// An agent run's timeline holds more than messages: the plan, reasoning,
// tool calls (arguments, status, results, errors) and the answer. The live
// path (UI events folded by the page's reducer) and the snapshot path (what a
// reload gets) must tell the same story; stop and restart behave as in the chat.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { UIEvent } from "sessionstream";
import { SqliteHydrationStore } from "sessionstream/store/sqlite";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createApp, reduce, registry } from "../src/app.js";
import { answerChunks, setStepDelay } from "../src/fake-agent.js";

beforeAll(() => setStepDelay(1));
const tmp = mkdtempSync(join(tmpdir(), "agent-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Hub = ReturnType<typeof createApp>;
type Entity = { kind: string; id: string; payload: Record<string, any> };

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The snapshot as protobuf JSON (what the page gets), by kind then id. */
async function entities(hub: Hub, session: string): Promise<Entity[]> {
  return asJson(await hub.snapshot(session));
}

function asJson(snap: Awaited<ReturnType<Hub["snapshot"]>>): Entity[] {
  return snap.entities
    .map((e) => ({ kind: e.kind, id: e.id, payload: registry.toJson("entities", e.kind, e.payload as never) as Record<string, any> }))
    .sort((a, b) => (a.kind + a.id < b.kind + b.id ? -1 : 1));
}

function ofKind(list: Entity[], kind: string) {
  return list.filter((e) => e.kind === kind).map((e) => e.payload);
}

async function runStatus(hub: Hub, session: string): Promise<string | undefined> {
  return ofKind(await entities(hub, session), "AgentRun")[0]?.["status"];
}

/** Folds live UI events (as protobuf JSON, as the page gets them) with the page's reducer. */
function fold(live: Array<{ ordinal: bigint; event: UIEvent }>): Entity[] {
  const state = new Map<string, Entity>();
  for (const { event } of live) {
    const payload = registry.toJson("uiEvents", event.name, event.payload as never);
    reduce(
      {
        get: (kind: string, id: string) => state.get(`${kind}/${id}`) as never,
        set: (kind: string, id: string, value: unknown) => void state.set(`${kind}/${id}`, { kind, id, payload: value as Record<string, any> }),
        delete: (kind: string, id: string) => void state.delete(`${kind}/${id}`),
      },
      { name: event.name, payload } as never,
    );
  }
  // What protobuf JSON would carry: empty fields left out.
  const clean = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(clean)
      : v && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined && x !== "" && x !== 0 && !(Array.isArray(x) && x.length === 0)).map(([k, x]) => [k, clean(x)]))
        : v;
  return [...state.values()].map((e) => ({ ...e, payload: clean(e.payload) as Record<string, any> })).sort((a, b) => (a.kind + a.id < b.kind + b.id ? -1 : 1));
}

function recordingApp(store?: SqliteHydrationStore) {
  const live: Array<{ ordinal: bigint; event: UIEvent }> = [];
  const hub = createApp({ ...(store ? { store } : {}), fanout: { publishUI: (_s, ordinal, events) => void live.push(...events.map((event) => ({ ordinal, event }))) } });
  return { hub, live };
}

test("a run's timeline: plan, reasoning, tool calls (one failed and retried), answer; live fold equals the snapshot", async () => {
  const { hub, live } = recordingApp();
  const prompt = "What is the weather in Lisbon, in °F?";
  await hub.submit("s1", "AgentStartRun", { prompt });
  await until(async () => (await runStatus(hub, "s1")) === "finished", "the run to finish");
  const snap = await entities(hub, "s1");

  expect(ofKind(snap, "AgentMessage").map((m) => [m["role"], m["text"], m["status"]])).toEqual([
    ["assistant", answerChunks(prompt).join(""), "finished"],
    ["user", prompt, "finished"],
  ]);
  expect(ofKind(snap, "AgentRun")).toEqual([expect.objectContaining({ status: "finished", model: "fake", finishReason: "stop" })]);
  expect(ofKind(snap, "AgentPlan")[0]!["steps"]).toEqual([
    { title: "Look up the weather in Lisbon", status: "done" },
    { title: "Convert °C to °F", status: "done" },
    { title: "Answer", status: "done" },
  ]);
  expect(ofKind(snap, "AgentReasoning").map((r) => r["text"])).toEqual([
    "The task asks about the weather in Lisbon. I will look it up, then convert the temperature.",
    "The calculator only takes ASCII operators; retrying with *.",
  ]);
  const calls = ofKind(snap, "AgentToolCall");
  expect(calls.map((c) => [c["tool"], JSON.parse(c["arguments"]), c["status"]])).toEqual([
    ["get_weather", { city: "Lisbon" }, "succeeded"],
    ["calculator", { expression: expect.stringContaining("×") }, "failed"],
    ["calculator", { expression: expect.stringContaining("*") }, "succeeded"],
  ]);
  expect(JSON.parse(calls[0]!["result"])).toMatchObject({ city: "Lisbon", tempC: expect.any(Number) });
  expect(calls[1]!["error"]).toMatch(/unsupported character "×"/);
  expect(ofKind(snap, "AgentError")).toEqual([]);

  // Several UI events per backend event: a finished tool call also advances the plan.
  const byOrdinal = new Map<bigint, string[]>();
  for (const l of live) byOrdinal.set(l.ordinal, [...(byOrdinal.get(l.ordinal) ?? []), l.event.name]);
  expect([...byOrdinal.values()].map((names) => names.join())).toContain("AgentToolCallChanged,AgentPlanChanged");
  expect(live[0]!.event.name).toBe("AgentUserMessageAdded");
  expect(live[1]!.event.name).toBe("AgentRunStatusChanged");

  // The page's reducer, fed the live events, ends where a reload starts.
  expect(fold(live)).toEqual(snap);
});

test("at every point of a run, the page's fold of the live events equals what a reload would show", async () => {
  setStepDelay(5);
  try {
    const snapshots: Array<Promise<{ ordinal: bigint; entities: Entity[] }>> = [];
    const live: Array<{ ordinal: bigint; event: UIEvent }> = [];
    const hub: Hub = createApp({
      fanout: {
        publishUI: (_s, ordinal, events) => {
          live.push(...events.map((event) => ({ ordinal, event })));
          snapshots.push(hub.snapshot("s5").then((snap) => ({ ordinal: snap.snapshotOrdinal, entities: asJson(snap) })));
        },
      },
    });
    await hub.submit("s5", "AgentStartRun", { prompt: "weather in Berlin" });
    await until(async () => (await runStatus(hub, "s5")) === "finished", "the run to finish");
    const taken = await Promise.all(snapshots);
    expect(taken.length).toBeGreaterThan(20);
    for (const snap of taken) {
      const mid = snap.entities.map((e) => e.payload);
      expect(fold(live.filter((l) => l.ordinal <= snap.ordinal)).map((e) => e.payload), `at ordinal ${snap.ordinal}`).toEqual(mid);
    }
  } finally {
    setStepDelay(1);
  }
});

test("a snapshot mid-run shows the run in progress; stop aborts it and nothing streams after", async () => {
  setStepDelay(25);
  try {
    const { hub } = recordingApp();
    await hub.submit("s2", "AgentStartRun", { prompt: "weather in Oslo please" });
    await until(async () => ofKind(await entities(hub, "s2"), "AgentToolCall").length > 0, "a first tool call");
    const mid = await entities(hub, "s2");
    expect(ofKind(mid, "AgentRun")[0]!["status"]).toBe("running");
    expect(ofKind(mid, "AgentPlan")[0]!["steps"][0].status).toBe("active");

    const runId = ofKind(mid, "AgentRun")[0]!["runId"] as string;
    await hub.submit("s2", "AgentStopRun", { runId });
    await until(async () => (await runStatus(hub, "s2")) === "stopped", "the stop");
    const stopped = await hub.snapshot("s2");
    await new Promise((r) => setTimeout(r, 200));
    expect((await hub.snapshot("s2")).snapshotOrdinal).toBe(stopped.snapshotOrdinal);
    const plan = ofKind(await entities(hub, "s2"), "AgentPlan")[0]!["steps"] as Array<{ status: string }>;
    expect(plan.map((s) => s.status)).toContain("stopped");
    expect(ofKind(await entities(hub, "s2"), "AgentMessage").filter((m) => m["role"] === "assistant").every((m) => m["status"] === "stopped")).toBe(true);
  } finally {
    setStepDelay(1);
  }
});

test("a model failure ends the run as failed with an error entity in the timeline", async () => {
  const { hub, live } = recordingApp();
  await hub.submit("s3", "AgentStartRun", { prompt: "please fail" });
  await until(async () => (await runStatus(hub, "s3")) === "failed", "the failure");
  const snap = await entities(hub, "s3");
  expect(ofKind(snap, "AgentError").map((e) => e["message"])).toEqual([expect.stringMatching(/503/)]);
  expect(live.at(-1)!.event.name).toBe("AgentErrorAdded");
  expect(fold(live)).toEqual(snap);
});

test("restart: a new process on the same SQLite file shows the same timeline and continues the ordinals", async () => {
  const path = join(tmp, "agent.sqlite");
  const first = recordingApp(new SqliteHydrationStore({ path, registry }));
  await first.hub.submit("s4", "AgentStartRun", { prompt: "weather in Rome" });
  await until(async () => (await runStatus(first.hub, "s4")) === "finished", "the run to finish");
  const before = await entities(first.hub, "s4");
  const ordinal = (await first.hub.snapshot("s4")).snapshotOrdinal;
  await first.hub.close();

  const second = recordingApp(new SqliteHydrationStore({ path, registry }));
  expect(await entities(second.hub, "s4")).toEqual(before);
  await second.hub.submit("s4", "AgentStartRun", { prompt: "and in Paris?" });
  // The run records the task once the command has returned.
  await until(async () => second.live.length > 0, "the second run to start");
  expect(second.live[0]!.ordinal).toBe(ordinal + 1n);
  await until(async () => ofKind(await entities(second.hub, "s4"), "AgentRun").every((r) => r["status"] === "finished"), "the second run");
  expect(ofKind(await entities(second.hub, "s4"), "AgentRun")).toHaveLength(2);
  await second.hub.close();
});
