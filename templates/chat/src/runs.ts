// The chat's run kind: one run per answer. `ChatStartInference` starts it,
// `ChatStopInference` stops it (also after a restart: the run is recorded in
// the store), and the hooks below publish its terminal event, exactly once,
// however it ends: finished, stopped, failed, or interrupted (the process died
// or shut down mid-answer; the next start finds the run and calls the hook).
import type { AppHub } from "./gen/app_sessionstream.js";
import { streamAnswer, type StreamContext } from "./fake-model.js";
import { openaiConfig, streamFromOpenAI } from "./openai-model.js";

/** The run kind of an answer. */
export const CHAT_ANSWER = "chat.answer";

/** The run id of the answer `messageId` (so a stop can name the message). */
export function answerRunId(messageId: string): string {
  return `run-${messageId}`;
}

/** What an answer's run records: enough for the hooks to name the message. */
interface AnswerData {
  readonly messageId: string;
}

function messageIdOf(run: { readonly data: Readonly<Record<string, unknown>> }): string {
  return String((run.data as unknown as AnswerData).messageId);
}

/** Registers the answer's run kind and the hooks that end the message. Call it in `createApp`, before the hub serves. */
export function registerChatRuns(hub: AppHub): void {
  hub.registerRunKind(CHAT_ANSWER, {
    finished: async (run, publisher, finishReason) => {
      await publisher.publish("ChatInferenceFinished", { messageId: messageIdOf(run), finishReason: typeof finishReason === "string" ? finishReason : "" });
    },
    stopped: async (run, publisher) => {
      await publisher.publish("ChatInferenceStopped", { messageId: messageIdOf(run) });
    },
    failed: async (run, publisher, error) => {
      await publisher.publish("ChatInferenceFailed", { messageId: messageIdOf(run), error: error.message });
    },
    interrupted: async (run, publisher) => {
      await publisher.publish("ChatInferenceInterrupted", { messageId: messageIdOf(run) });
    },
  });
}

/**
 * The work of an answer's run: starts the assistant's message, streams the
 * answer (the fake model unless MODEL and OPENAI_BASE_URL, or OPENAI_API_KEY,
 * are set) and resolves with the finish reason; the hooks above publish how
 * it ended. It runs detached from the command and from any socket.
 */
export function answerWork(messageId: string, prompt: string) {
  return async (run: StreamContext): Promise<string> => {
    await run.publish("ChatInferenceStarted", { messageId });
    const model = openaiConfig();
    return model ? streamFromOpenAI(run, messageId, prompt, model) : streamAnswer(run, messageId, prompt);
  };
}
