// Real model streaming, behind one setting: when MODEL and OPENAI_BASE_URL
// (or OPENAI_API_KEY) are set, answers stream from any OpenAI-compatible
// chat-completions endpoint (OpenAI, Ollama, vLLM, llama.cpp server, ...)
// through the official `openai` package; otherwise the fake model answers.
// Token deltas become `ChatTokensDelta`, the finish reason rides on
// `ChatInferenceFinished`, an error (also mid-stream) becomes
// `ChatInferenceFailed`, and `ChatStopInference` aborts the HTTP stream.
import OpenAI from "openai";
import type { AppEventPublisher } from "./gen/app_sessionstream.js";

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

const streams = new Map<string, AbortController>();

/** Aborts the HTTP stream of `messageId`; false when none is running here. */
export function abortStream(messageId: string): boolean {
  const controller = streams.get(messageId);
  controller?.abort();
  return controller !== undefined;
}

/** Streams the answer to `prompt` from the endpoint, publishing the chat's events. */
export async function streamFromOpenAI(publisher: AppEventPublisher, messageId: string, prompt: string, config: OpenAIConfig): Promise<void> {
  const controller = new AbortController();
  streams.set(messageId, controller);
  try {
    let finishReason = "";
    try {
      // maxRetries 0: a retried stream would repeat tokens already published.
      const client = new OpenAI({ apiKey: config.apiKey, ...(config.baseURL ? { baseURL: config.baseURL } : {}), maxRetries: 0 });
      const stream = await client.chat.completions.create(
        { model: config.model, stream: true, messages: [{ role: "user", content: prompt }] },
        { signal: controller.signal },
      );
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (choice?.delta?.content) await publisher.publish("ChatTokensDelta", { messageId, chunk: choice.delta.content });
        if (choice?.finish_reason) finishReason = choice.finish_reason;
      }
      // The client ends the iteration quietly when the stream is aborted.
      if (controller.signal.aborted) throw controller.signal.reason;
      if (!finishReason) throw new Error("the stream ended without a finish reason");
    } catch (err) {
      if (controller.signal.aborted) await publisher.publish("ChatInferenceStopped", { messageId });
      else await publisher.publish("ChatInferenceFailed", { messageId, error: (err as Error).message });
      return;
    }
    await publisher.publish("ChatInferenceFinished", { messageId, finishReason });
  } catch (err) {
    // The hub closed under us (dev reload, shutdown): the partial answer is already durable.
    console.warn(`chat: stream of ${messageId} ended early: ${(err as Error).message}`);
  } finally {
    streams.delete(messageId);
  }
}
