// A real model behind the same seam as the fake one: any OpenAI-compatible
// chat-completions endpoint (OpenAI, Ollama, vLLM, llama.cpp server, ...)
// through the official `openai` package, when MODEL and OPENAI_BASE_URL (or
// OPENAI_API_KEY) are set. Streamed deltas map to backend events:
//   delta.content              -> AgentAnswerDelta
//   delta.reasoning_content    -> AgentReasoningDelta (servers that expose reasoning)
//   delta.tool_calls[i]        -> AgentToolCallStarted, then AgentToolCallArgumentsDelta
//   finish_reason "tool_calls" -> the tools run (AgentToolCallFinished), then the next turn
//   other finish reasons       -> the run's finish reason (AgentRunEnded)
// Errors (also mid-stream) reject and end the run as failed; AgentStopRun
// aborts the HTTP stream through the run's AbortSignal.
import OpenAI from "openai";
import type { ChatCompletionMessageParam, ChatCompletionMessageToolCall } from "openai/resources/chat/completions";
import type { AgentModel, RunContext } from "./model.js";
import { runTool, TOOLS } from "./tools.js";

/** Where to stream from; undefined means "use the fake model". */
export interface OpenAIConfig {
  readonly baseURL?: string;
  readonly apiKey: string;
  readonly model: string;
}

/** Reads OPENAI_BASE_URL / OPENAI_API_KEY / MODEL. */
export function openaiConfig(env: NodeJS.ProcessEnv = process.env): OpenAIConfig | undefined {
  const model = env["MODEL"];
  const baseURL = env["OPENAI_BASE_URL"];
  const apiKey = env["OPENAI_API_KEY"];
  if (!model || (!baseURL && !apiKey)) return undefined;
  // Local servers take any key; the client insists on one.
  return { ...(baseURL ? { baseURL } : {}), apiKey: apiKey || "not-needed", model };
}

/** At most this many model turns (each tool round is one) per run. */
const MAX_TURNS = 8;

const SYSTEM = "You are a helpful agent. Use the tools when they help; answer briefly.";

/** The model of `config` as an {@link AgentModel}. */
export function openaiAgent(config: OpenAIConfig): AgentModel {
  // maxRetries 0: a retried stream would repeat deltas already published.
  const client = new OpenAI({ apiKey: config.apiKey, ...(config.baseURL ? { baseURL: config.baseURL } : {}), maxRetries: 0 });
  return {
    name: config.model,
    async run(ctx: RunContext): Promise<string> {
      const { publisher, runId, signal } = ctx;
      const messages: ChatCompletionMessageParam[] = [
        { role: "system", content: SYSTEM },
        { role: "user", content: ctx.prompt },
      ];
      for (let turn = 1; turn <= MAX_TURNS; turn++) {
        const stream = await client.chat.completions.create(
          {
            model: config.model,
            stream: true,
            messages,
            tools: TOOLS.map((t) => ({ type: "function" as const, function: { name: t.name, description: t.description, parameters: t.parameters } })),
          },
          { signal },
        );
        let content = "";
        let finishReason = "";
        const calls: Array<{ id: string; name: string; arguments: string }> = [];
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          if (!choice) continue;
          const delta = choice.delta as typeof choice.delta & { reasoning_content?: string; reasoning?: string };
          const reasoning = delta.reasoning_content ?? delta.reasoning;
          if (reasoning) await publisher.publish("AgentReasoningDelta", { runId, segmentId: `${runId}-r${turn}`, chunk: reasoning });
          if (delta.content) {
            content += delta.content;
            await publisher.publish("AgentAnswerDelta", { runId, messageId: `answer-${runId}`, chunk: delta.content });
          }
          for (const part of delta.tool_calls ?? []) {
            let call = calls[part.index];
            if (!call) {
              call = calls[part.index] = { id: part.id ?? `${runId}-t${turn}-${part.index}`, name: part.function?.name ?? "", arguments: "" };
              await publisher.publish("AgentToolCallStarted", { runId, callId: call.id, tool: call.name, arguments: "", planStep: -1 });
            }
            const args = part.function?.arguments;
            if (args) {
              call.arguments += args;
              await publisher.publish("AgentToolCallArgumentsDelta", { runId, callId: call.id, chunk: args });
            }
          }
          if (choice.finish_reason) finishReason = choice.finish_reason;
        }
        // The client ends the iteration quietly when the stream is aborted.
        if (signal.aborted) throw signal.reason;
        if (!finishReason) throw new Error("the stream ended without a finish reason");
        if (finishReason !== "tool_calls" || calls.length === 0) return finishReason;

        const toolCalls: ChatCompletionMessageToolCall[] = calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
        messages.push({ role: "assistant", content: content || null, tool_calls: toolCalls });
        for (const call of calls) {
          let output: string;
          try {
            output = runTool(call.name, call.arguments);
            await publisher.publish("AgentToolCallFinished", { runId, callId: call.id, result: output });
          } catch (err) {
            output = JSON.stringify({ error: (err as Error).message });
            await publisher.publish("AgentToolCallFinished", { runId, callId: call.id, error: (err as Error).message });
          }
          messages.push({ role: "tool", tool_call_id: call.id, content: output });
        }
      }
      throw new Error(`no answer after ${MAX_TURNS} model turns`);
    },
  };
}
