// Real model streaming, against a local stand-in endpoint on loopback (never
// the internet): the real client code (the `openai` package) turns chunked
// token deltas, finish reasons, an error mid-stream and a stop into the
// chat's backend events.
import { afterAll, beforeAll, expect, test } from "vitest";
import { createApp } from "../src/app.js";
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
async function answer(hub: Hub, session: string) {
  const snap = await hub.snapshot(session);
  const p = snap.entities.find((e) => (e.payload as unknown as { role: string }).role === "assistant")?.payload as unknown as
    | { text: string; status: string; error: string }
    | undefined;
  return p && { text: p.text, status: p.status, error: p.error };
}

test("token deltas stream into the answer; the finish reason ends it", async () => {
  standIn.script(textStream(["Ordinals ", "order ", "events."], "length"));
  const hub = createApp();
  await hub.submit("real-1", "ChatStartInference", { prompt: "What is an ordinal?" });
  await until(async () => (await answer(hub, "real-1"))?.status === "finished", "the answer");
  expect(await answer(hub, "real-1")).toEqual({ text: "Ordinals order events.", status: "finished", error: "" });

  const request = standIn.requests.at(-1)!;
  expect(request.path).toBe("/v1/chat/completions");
  expect(request.authorization).toBe("Bearer test-key");
  expect(request.body).toMatchObject({ model: "stand-in-model", stream: true, messages: [{ role: "user", content: "What is an ordinal?" }] });
});

test("an error mid-stream fails the answer and keeps what streamed before it", async () => {
  standIn.script([
    { data: chunk({ role: "assistant", content: "Half an " }) },
    { data: chunk({ content: "answer" }) },
    { data: { error: { message: "the model ran out of memory", type: "server_error" } } },
  ]);
  const hub = createApp();
  await hub.submit("real-2", "ChatStartInference", { prompt: "break" });
  await until(async () => (await answer(hub, "real-2"))?.status === "failed", "the failure");
  const failed = (await answer(hub, "real-2"))!;
  expect(failed.text).toBe("Half an answer");
  expect(failed.error).toMatch(/the model ran out of memory/);
});

test("an endpoint that refuses the request fails the answer with its message", async () => {
  // Nothing scripted: the stand-in answers 404 with an error body.
  const hub = createApp();
  await hub.submit("real-3", "ChatStartInference", { prompt: "anyone there?" });
  await until(async () => (await answer(hub, "real-3"))?.status === "failed", "the failure");
  expect((await answer(hub, "real-3"))!.error).toMatch(/404/);
});

test("stop aborts the HTTP stream: the stand-in sees the client go, the answer is stopped", async () => {
  standIn.script(textStream(Array.from({ length: 50 }, (_, i) => `token${i} `), "stop", 40));
  const hub = createApp();
  await hub.submit("real-4", "ChatStartInference", { prompt: "stream slowly" });
  await until(async () => ((await answer(hub, "real-4"))?.text ?? "").includes("token2"), "a few tokens");
  const messageId = (await hub.snapshot("real-4")).entities.find((e) => e.id.startsWith("assistant-"))!.id;
  await hub.submit("real-4", "ChatStopInference", { messageId });
  await until(async () => (await answer(hub, "real-4"))?.status === "stopped", "the stop");
  await until(async () => standIn.requests.at(-1)!.aborted, "the stand-in to see the abort");
  const stopped = (await answer(hub, "real-4"))!;
  expect(stopped.text).not.toContain("token49");
  // Nothing streams after the stop.
  const ordinal = (await hub.snapshot("real-4")).snapshotOrdinal;
  await new Promise((r) => setTimeout(r, 150));
  expect((await hub.snapshot("real-4")).snapshotOrdinal).toBe(ordinal);
});

test("one setting: the fake model unless MODEL and OPENAI_BASE_URL or OPENAI_API_KEY are set", async () => {
  const { openaiConfig } = await import("../src/openai-model.js");
  expect(openaiConfig({})).toBeUndefined();
  expect(openaiConfig({ MODEL: "llama3" })).toBeUndefined();
  expect(openaiConfig({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" })).toBeUndefined();
  // Local servers (Ollama, vLLM, llama.cpp) need no key.
  expect(openaiConfig({ MODEL: "llama3", OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" })).toEqual({ baseURL: "http://127.0.0.1:11434/v1", apiKey: "not-needed", model: "llama3" });
  expect(openaiConfig({ MODEL: "gpt-4o-mini", OPENAI_API_KEY: "sk-x" })).toEqual({ apiKey: "sk-x", model: "gpt-4o-mini" });
});
