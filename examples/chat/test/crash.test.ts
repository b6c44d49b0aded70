// kill -9 mid-answer: `sessionstream dev` runs the app in a child process on
// a SQLite file and is SIGKILLed while an answer streams. The answer's run is
// left `running` in the store; the next start (a new hub on the same file)
// finds that its process is gone: `recoverRuns()` (what `dev` and `start`
// call when the app loads) marks the message `interrupted` through the run
// kind's hook, live and in the snapshot, never `streaming`. A stop sent after
// the restart reaches the run the dead process left. Retry streams a new answer.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { SessionstreamError, type RuntimeErrorReport, type UIEvent } from "sessionstream";
import { SqliteHydrationStore } from "sessionstream/store/sqlite";
import { afterAll, afterEach, expect, test } from "vitest";
import { createApp, registry } from "../src/app.js";
import { answerTokens, setTokenDelay } from "../src/fake-model.js";
import { answerRunId } from "../src/runs/chat-answer.js";

const appDir = join(import.meta.dirname, "..");
const bin = join(dirname(createRequire(import.meta.url).resolve("sessionstream/package.json")), "bin", "sessionstream.js");
const tmp = mkdtempSync(join(tmpdir(), "chat-crash-"));
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

interface Answer {
  readonly id: string;
  readonly role: string;
  readonly status: string;
  readonly text: string;
}

/** `sessionstream dev` (or `start`) on this app and a SQLite file, in a child process; resolves with its URL. */
async function devProcess(storePath: string, verb: "dev" | "start" = "dev"): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const flags = verb === "dev" ? ["--no-watch", "--no-drift-check"] : ["--host", "127.0.0.1"];
  const child = spawn(process.execPath, [bin, verb, "--cwd", appDir, "--port", "0", "--store", `sqlite:${storePath}`, ...flags], {
    env: { ...process.env, CHAT_TOKEN_DELAY_MS: "40", MODEL: "", OPENAI_BASE_URL: "", OPENAI_API_KEY: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const url = await until(async () => /(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], `${verb} to start:\n${output}`, 90_000);
  return { child, url, output: () => output };
}

/** The messages of a session as the dev server's HTTP snapshot has them. */
async function messages(url: string, session: string): Promise<Answer[]> {
  const res = await fetch(`${url}/api/sessions/${session}/snapshot`);
  const body = (await res.json()) as { entities: Array<{ id: string; payload: Partial<Answer> }> };
  return body.entities.map((e) => ({ id: e.id, role: e.payload.role ?? "", status: e.payload.status ?? "", text: e.payload.text ?? "" }));
}

/** Starts an answer on the child and waits until it is mid-stream; resolves with the assistant message's id. */
async function answerMidStream(url: string, session: string, prompt: string): Promise<string> {
  const res = await fetch(`${url}/api/sessions/${session}/commands/ChatStartInference`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt }),
  });
  expect(res.status).toBeLessThan(300);
  const mid = await until(async () => (await messages(url, session)).find((m) => m.role === "assistant" && m.status === "streaming" && m.text.length > 10), "the answer to stream");
  return mid.id;
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGKILL");
  // Reaped: its pid no longer exists, which is how the next start knows the owner is dead.
  await exited;
}

function assistant(snapshot: Awaited<ReturnType<ReturnType<typeof createApp>["snapshot"]>>, id: string): Answer {
  const e = snapshot.entities.find((x) => x.id === id)!;
  return { id, ...(e.payload as unknown as Omit<Answer, "id">) };
}

test("kill -9 mid-answer, then a restart: the answer is interrupted in the snapshot and live (never streaming), and Retry streams a new one", async () => {
  const path = join(tmp, "kill.sqlite");
  const dev = await devProcess(path);
  const messageId = await answerMidStream(dev.url, "k", "Explain ordinals");
  await kill9(dev.child);

  // The dead process left the run "running" and the message "streaming".
  const live: Array<{ ordinal: bigint; event: UIEvent }> = [];
  const hub = createApp({
    store: new SqliteHydrationStore({ path, registry }),
    fanout: { publishUI: (_s, ordinal, events) => void live.push(...events.map((event) => ({ ordinal, event }))) },
  });
  try {
    expect((await hub.run(answerRunId(messageId)))!.state).toBe("running");
    const before = assistant(await hub.snapshot("k"), messageId);
    expect(before.status).toBe("streaming");

    // What `dev` and `start` do when the app loads.
    const recovered = await hub.recoverRuns();
    expect(recovered.map((r) => r.runId)).toEqual([answerRunId(messageId)]);
    const after = await hub.snapshot("k");
    expect(assistant(after, messageId)).toMatchObject({ status: "interrupted", text: before.text });
    expect(after.entities.map((e) => (e.payload as unknown as Answer).status)).not.toContain("streaming");
    expect((await hub.run(answerRunId(messageId)))!.state).toBe("interrupted");
    // Live: a page connected to the new process gets the interrupted frame.
    expect(live.map((l) => [l.event.name, (l.event.payload as unknown as Answer).status])).toEqual([["ChatMessageInterrupted", "interrupted"]]);
    expect(live[0]!.ordinal).toBe(after.snapshotOrdinal);
    // Recovering again finds nothing: the terminal event is published once.
    expect(await hub.recoverRuns()).toEqual([]);

    // Retry: the page submits the same prompt again; the new answer streams to the end.
    setTokenDelay(1);
    await hub.submit("k", "ChatStartInference", { prompt: "Explain ordinals" });
    const retried = await until(async () => {
      const snap = await hub.snapshot("k");
      const answers = snap.entities.filter((e) => (e.payload as unknown as Answer).role === "assistant");
      return answers.length === 2 && (answers[1]!.payload as unknown as Answer).status === "finished" ? answers[1]! : undefined;
    }, "the retried answer");
    expect((retried.payload as unknown as Answer).text).toBe(answerTokens("Explain ordinals").join(""));
    expect(live.map((l) => l.event.name)).toContain("ChatMessageFinished");
  } finally {
    await hub.close();
  }
}, 120_000);

test("a stop sent after a kill -9 and a restart reaches the run the dead process left: stopped, once", async () => {
  const path = join(tmp, "stop.sqlite");
  const dev = await devProcess(path);
  const messageId = await answerMidStream(dev.url, "s", "Stop me later");
  await kill9(dev.child);

  const reports: RuntimeErrorReport[] = [];
  const hub = createApp({ store: new SqliteHydrationStore({ path, registry }), onError: (r) => void reports.push(r) });
  try {
    await hub.submit("s", "ChatStopInference", { messageId });
    expect(assistant(await hub.snapshot("s"), messageId).status).toBe("stopped");
    expect((await hub.run(answerRunId(messageId)))!.state).toBe("stopped");
    const again = await hub.submit("s", "ChatStopInference", { messageId }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(SessionstreamError);
    expect((again as SessionstreamError).code).toBe("run_over");
    // The hub reports a refused command to onError (dev logs it) like any handler error.
    expect(reports.map((r) => [r.kind, r.commandName, r.error.code])).toEqual([["handler", "ChatStopInference", "run_over"]]);
    // Recovery has nothing left to do.
    expect(await hub.recoverRuns()).toEqual([]);
  } finally {
    await hub.close();
  }
}, 120_000);

test("dev restarted on the same file after kill -9 shows the answer interrupted", async () => {
  const path = join(tmp, "restart.sqlite");
  const first = await devProcess(path);
  const messageId = await answerMidStream(first.url, "r", "Restart me");
  await kill9(first.child);
  const second = await devProcess(path);
  const answer = await until(async () => (await messages(second.url, "r")).find((m) => m.id === messageId && m.status !== "streaming"), "the recovered answer");
  expect(answer.status).toBe("interrupted");
  expect(second.output()).not.toMatch(/error/i);
  await kill9(second.child);
}, 120_000);

test("production: `sessionstream start` killed with -9 mid-answer and started again shows the answer interrupted", async () => {
  const path = join(tmp, "start.sqlite");
  const first = await devProcess(path, "start");
  const messageId = await answerMidStream(first.url, "p", "Deploy me");
  await kill9(first.child);
  const second = await devProcess(path, "start");
  const answer = await until(async () => (await messages(second.url, "p")).find((m) => m.id === messageId && m.status !== "streaming"), "the recovered answer");
  expect(answer.status).toBe("interrupted");
  await kill9(second.child);
}, 120_000);
