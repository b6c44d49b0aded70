// kill -9 mid-run: `sessionstream dev` runs the app in a child process on a
// SQLite file and is SIGKILLed while a run streams. The next start (a new hub
// on the same file) finds that the run's process is gone: `recoverRuns()`
// (what `dev` and `start` call when the app loads) ends it `interrupted`
// through the run kind's hook, live and in the snapshot; nothing is left
// "running" or "streaming". A stop sent after the restart reaches the run the
// dead process left. Retry runs the task again.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { UIEvent } from "sessionstream";
import { SqliteHydrationStore } from "sessionstream/store/sqlite";
import { afterAll, afterEach, expect, test } from "vitest";
import { createApp, registry } from "../src/app.js";
import { setStepDelay } from "../src/fake-agent.js";

const appDir = join(import.meta.dirname, "..");
const bin = join(dirname(createRequire(import.meta.url).resolve("sessionstream/package.json")), "bin", "sessionstream.js");
const tmp = mkdtempSync(join(tmpdir(), "agent-crash-"));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Entity = { kind: string; id: string; payload: Record<string, any> };

/** `sessionstream dev` on this app and a SQLite file, in a child process, with a run mid-stream; SIGKILLed and reaped. Resolves with the run id. */
async function killMidRun(storePath: string, session: string, prompt: string): Promise<string> {
  const child = spawn(process.execPath, [bin, "dev", "--cwd", appDir, "--port", "0", "--store", `sqlite:${storePath}`, "--no-watch", "--no-drift-check"], {
    env: { ...process.env, AGENT_STEP_DELAY_MS: "40", MODEL: "", OPENAI_BASE_URL: "", OPENAI_API_KEY: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const url = await until(async () => /(http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1], `dev to start:\n${output}`, 90_000);
  const res = await fetch(`${url}/api/sessions/${session}/commands/AgentStartRun`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt }) });
  expect(res.status).toBeLessThan(300);
  // Mid-run: a tool call has started and the run is still going.
  const run = await until(async () => {
    const snap = (await (await fetch(`${url}/api/sessions/${session}/snapshot`)).json()) as { entities: Entity[] };
    const calls = snap.entities.filter((e) => e.kind === "AgentToolCall");
    return calls.length > 0 ? snap.entities.find((e) => e.kind === "AgentRun" && e.payload["status"] === "running") : undefined;
  }, "the run to reach a tool call");
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGKILL");
  await exited;
  return run.id;
}

async function entities(hub: ReturnType<typeof createApp>, session: string): Promise<Entity[]> {
  return (await hub.snapshot(session)).entities.map((e) => ({ kind: e.kind, id: e.id, payload: registry.toJson("entities", e.kind as never, e.payload as never) as Record<string, any> }));
}

test("kill -9 mid-run, then a restart: the run ends interrupted in the snapshot and live, nothing stays running, and Retry runs the task again", async () => {
  const path = join(tmp, "kill.sqlite");
  const runId = await killMidRun(path, "k", "What is the weather in Lisbon?");
  const live: Array<{ ordinal: bigint; event: UIEvent }> = [];
  const hub = createApp({
    store: new SqliteHydrationStore({ path, registry }),
    fanout: { publishUI: (_s, ordinal, events) => void live.push(...events.map((event) => ({ ordinal, event }))) },
  });
  try {
    expect((await hub.run(runId))!.state).toBe("running");
    expect((await hub.recoverRuns()).map((r) => r.runId)).toEqual([runId]);
    const after = await entities(hub, "k");
    expect(after.find((e) => e.kind === "AgentRun")!.payload).toMatchObject({ runId, status: "interrupted" });
    expect(JSON.stringify(after)).not.toMatch(/"(running|streaming|active)"/);
    expect(live.map((l) => l.event.name)).toContain("AgentRunStatusChanged");
    expect(live.find((l) => l.event.name === "AgentRunStatusChanged")!.event.payload).toMatchObject({ runId, status: "interrupted" });
    expect(await hub.recoverRuns()).toEqual([]);

    // Retry: the page submits the task of the interrupted run again.
    setStepDelay(1);
    await hub.submit("k", "AgentStartRun", { prompt: "What is the weather in Lisbon?" });
    await until(async () => (await entities(hub, "k")).filter((e) => e.kind === "AgentRun" && e.payload["status"] === "finished").length === 1, "the retried run");
  } finally {
    await hub.close();
  }
}, 120_000);

test("a stop sent after a kill -9 and a restart reaches the run the dead process left", async () => {
  const path = join(tmp, "stop.sqlite");
  const runId = await killMidRun(path, "s", "weather in Oslo");
  const hub = createApp({ store: new SqliteHydrationStore({ path, registry }) });
  try {
    await hub.submit("s", "AgentStopRun", { runId });
    expect((await entities(hub, "s")).find((e) => e.kind === "AgentRun")!.payload["status"]).toBe("stopped");
    expect((await hub.run(runId))!.state).toBe("stopped");
    expect(await hub.recoverRuns()).toEqual([]);
  } finally {
    await hub.close();
  }
}, 120_000);
