// Real model streaming, against a local stand-in endpoint on loopback (never
// the internet): the real client code (the `openai` package) turns reasoning
// and content deltas, streamed tool-call deltas, finish reasons, an error
// mid-stream and a stop into the agent's backend events.
import { afterAll, beforeAll, expect, test } from "vitest";
import { createApp, registry } from "../src/app.js";
import { openaiConfig } from "../src/openai-agent.js";
import { chunk, startStandIn, textStream, type StandIn } from "./openai-stand-in.js";

let standIn: StandIn;
beforeAll(async () => {
  standIn = await startStandIn();
  process.env["OPENAI_BASE_URL"] = standIn.baseURL;
  process.env["OPENAI_API_KEY"] = "test-key";
  process.env["MODEL"] = "stand-in-model";
});
afterAll(async () => {
  delete process.env["OPENAI_BASE_URL"];
  delete process.env["OPENAI_API_KEY"];
  delete process.env["MODEL"];
  await standIn.close();
});

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

type Hub = ReturnType<typeof createApp>;
async function ofKind(hub: Hub, session: string, kind: string): Promise<Array<Record<string, any>>> {
  const snap = await hub.snapshot(session);
  return snap.entities.filter((e) => e.kind === kind).map((e) => registry.toJson("entities", e.kind, e.payload as never) as Record<string, any>);
}
async function runStatus(hub: Hub, session: string): Promise<string | undefined> {
  return (await ofKind(hub, session, "AgentRun"))[0]?.["status"];
}

test("a tool call streamed in pieces runs, its result goes back to the model, and the answer streams", async () => {
  const toolCall = (part: Record<string, unknown>) => chunk({ tool_calls: [{ index: 0, ...part }] });
  standIn.script([
    { data: chunk({ role: "assistant", reasoning_content: "I should look " }) },
    { data: chunk({ reasoning_content: "up the weather." }) },
    { data: toolCall({ id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }) },
    { data: toolCall({ function: { arguments: '{"ci' } }) },
    { data: toolCall({ function: { arguments: 'ty": "Par' } }) },
    { data: toolCall({ function: { arguments: 'is"}' } }) },
    { data: chunk({}, "tool_calls") },
  ]);
  standIn.script(textStream(["It is ", "cloudy ", "in Paris."], "stop"));
  const hub = createApp();
  await hub.submit("real-1", "AgentStartRun", { prompt: "Weather in Paris?" });
  await until(async () => (await runStatus(hub, "real-1")) === "finished", "the run to finish");

  expect(await ofKind(hub, "real-1", "AgentRun")).toEqual([expect.objectContaining({ model: "stand-in-model", status: "finished", finishReason: "stop" })]);
  expect((await ofKind(hub, "real-1", "AgentReasoning")).map((r) => r["text"])).toEqual(["I should look up the weather."]);
  const [call] = await ofKind(hub, "real-1", "AgentToolCall");
  expect(call).toMatchObject({ callId: "call_1", tool: "get_weather", arguments: '{"city": "Paris"}', status: "succeeded" });
  expect(JSON.parse(call!["result"])).toMatchObject({ city: "Paris", tempC: expect.any(Number) });
  const answer = (await ofKind(hub, "real-1", "AgentMessage")).find((m) => m["role"] === "assistant");
  expect(answer).toMatchObject({ text: "It is cloudy in Paris.", status: "finished" });

  // Turn 1 offered the tools; turn 2 carried the call and its result back.
  const [first, second] = standIn.requests.slice(-2);
  expect(first!.authorization).toBe("Bearer test-key");
  expect(first!.body).toMatchObject({ model: "stand-in-model", stream: true });
  expect(first!.body.tools.map((t: any) => t.function.name)).toEqual(["get_weather", "calculator"]);
  expect(second!.body.messages.slice(-2)).toEqual([
    { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city": "Paris"}' } }] },
    { role: "tool", tool_call_id: "call_1", content: call!["result"] },
  ]);
});

test("a failing tool call is recorded with its error and reported to the model", async () => {
  standIn.script([
    { data: chunk({ tool_calls: [{ index: 0, id: "call_x", type: "function", function: { name: "calculator", arguments: '{"expression":"2 ^ 8"}' } }] }) },
    { data: chunk({}, "tool_calls") },
  ]);
  standIn.script(textStream(["Sorry."], "stop"));
  const hub = createApp();
  await hub.submit("real-2", "AgentStartRun", { prompt: "2^8?" });
  await until(async () => (await runStatus(hub, "real-2")) === "finished", "the run to finish");
  const [call] = await ofKind(hub, "real-2", "AgentToolCall");
  expect(call).toMatchObject({ status: "failed", error: 'unsupported character "^" in "2 ^ 8"' });
  expect(standIn.requests.at(-1)!.body.messages.at(-1)).toEqual({ role: "tool", tool_call_id: "call_x", content: JSON.stringify({ error: call!["error"] }) });
});

test("an error mid-stream fails the run with an error entity; what streamed before stays", async () => {
  standIn.script([
    { data: chunk({ role: "assistant", content: "Let me " }) },
    { data: { error: { message: "upstream model crashed", type: "server_error" } } },
  ]);
  const hub = createApp();
  await hub.submit("real-3", "AgentStartRun", { prompt: "crash" });
  await until(async () => (await runStatus(hub, "real-3")) === "failed", "the failure");
  expect((await ofKind(hub, "real-3", "AgentError")).map((e) => e["message"])).toEqual([expect.stringMatching(/upstream model crashed/)]);
  expect((await ofKind(hub, "real-3", "AgentMessage")).find((m) => m["role"] === "assistant")).toMatchObject({ text: "Let me ", status: "failed" });
});

test("stop aborts the HTTP stream: the stand-in sees the client go, the run is stopped", async () => {
  standIn.script(textStream(Array.from({ length: 50 }, (_, i) => `word${i} `), "stop", 40));
  const hub = createApp();
  await hub.submit("real-4", "AgentStartRun", { prompt: "talk slowly" });
  await until(async () => ((await ofKind(hub, "real-4", "AgentMessage")).find((m) => m["role"] === "assistant")?.["text"] ?? "").includes("word2"), "a few words");
  const runId = (await ofKind(hub, "real-4", "AgentRun"))[0]!["runId"];
  await hub.submit("real-4", "AgentStopRun", { runId });
  await until(async () => (await runStatus(hub, "real-4")) === "stopped", "the stop");
  await until(async () => standIn.requests.at(-1)!.aborted, "the stand-in to see the abort");
  const ordinal = (await hub.snapshot("real-4")).snapshotOrdinal;
  await new Promise((r) => setTimeout(r, 150));
  expect((await hub.snapshot("real-4")).snapshotOrdinal).toBe(ordinal);
  expect((await ofKind(hub, "real-4", "AgentMessage")).find((m) => m["role"] === "assistant")).toMatchObject({ status: "stopped" });
});

test("one setting: the fake model unless MODEL and OPENAI_BASE_URL or OPENAI_API_KEY are set", () => {
  expect(openaiConfig({})).toBeUndefined();
  expect(openaiConfig({ MODEL: "llama3" })).toBeUndefined();
  expect(openaiConfig({ MODEL: "llama3", OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" })).toEqual({ baseURL: "http://127.0.0.1:11434/v1", apiKey: "not-needed", model: "llama3" });
});
