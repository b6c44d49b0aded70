// Real model streaming, behind one setting: when MODEL and OPENAI_BASE_URL
// (or OPENAI_API_KEY) are set, answers stream from any OpenAI-compatible
// chat-completions endpoint (OpenAI, Ollama, vLLM, llama.cpp server, ...)
// through the official `openai` package; otherwise the fake model answers.
// Token deltas become `ChatTokensDelta`, the finish reason rides on
// `ChatInferenceFinished`, an error (also mid-stream) becomes
// `ChatInferenceFailed`, and `ChatStopInference` aborts the HTTP stream (the
// run's signal). The terminal events come from the run's hooks (src/runs/chat-answer.ts).
import OpenAI from "openai";
import type { StreamContext } from "./fake-model.js";

/** Where to stream from; undefined means "use the fake model". */
export interface OpenAIConfig {
  readonly baseURL?: string;
  readonly apiKey: string;
  readonly model: string;
}

/** Reads OPENAI_BASE_URL / OPENAI_API_KEY / MODEL (at call time, so a restart picks up changes). */
export function openaiConfig(env: NodeJS.ProcessEnv = process.env): OpenAIConfig | undefined {
  const model = env["MODEL"];
  const baseURL = env["OPENAI_BASE_URL"];
  const apiKey = env["OPENAI_API_KEY"];
  if (!model || (!baseURL && !apiKey)) return undefined;
  // Local servers (Ollama, vLLM, llama.cpp) take any key; the client insists on one.
  return { ...(baseURL ? { baseURL } : {}), apiKey: apiKey || "not-needed", model };
}

/**
 * Streams the answer to `prompt` from the endpoint as `ChatTokensDelta`
 * events and resolves with the finish reason. The run's signal aborts the
 * HTTP stream (a stop, a shutdown); an error, also mid-stream, rejects (the
 * run then ends `failed` and its hook publishes `ChatInferenceFailed`).
 */
export async function streamFromOpenAI({ publish, signal }: StreamContext, messageId: string, prompt: string, config: OpenAIConfig): Promise<string> {
  let finishReason = "";
  // maxRetries 0: a retried stream would repeat tokens already published.
  const client = new OpenAI({ apiKey: config.apiKey, ...(config.baseURL ? { baseURL: config.baseURL } : {}), maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: config.model, stream: true, messages: [{ role: "user", content: prompt }] }, { signal });
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (choice?.delta?.content) await publish("ChatTokensDelta", { messageId, chunk: choice.delta.content });
    if (choice?.finish_reason) finishReason = choice.finish_reason;
  }
  // The client ends the iteration quietly when the stream is aborted.
  signal.throwIfAborted();
  if (!finishReason) throw new Error("the stream ended without a finish reason");
  return finishReason;
}
