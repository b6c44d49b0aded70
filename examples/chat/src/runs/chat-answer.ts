// The chat's run kind, "chat.answer": one run per answer. The proto says so
// (`ChatStartInference` has `starts_run: "chat.answer"`, each terminal event
// `ends_runs: "chat.answer"`), `sessionstream gen` wrote this file as a hooks
// stub and `app.ts` registers it with the generated `registerAppRunKinds`,
// which fails to compile without hooks for every kind. `ChatStartInference`
// starts the run, `ChatStopInference` stops it (also after a restart: the run
// is recorded in the store), and the hooks below publish its terminal event,
// exactly once, however it ends: finished, stopped, failed, or interrupted
// (the process died or shut down mid-answer; the next start finds the run
// and calls the hook).
import type { AppRunKindHooks } from "../gen/app_sessionstream.js";

/** The run id of the answer `messageId` (so a stop can name the message). */
export function answerRunId(messageId: string): string {
  return `run-${messageId}`;
}

/** What an answer's run records (`startRun`'s `data`): enough for the hooks to name the message. */
export interface AnswerData {
  readonly messageId: string;
}

function messageIdOf(run: { readonly data: Readonly<Record<string, unknown>> }): string {
  return String((run.data as unknown as AnswerData).messageId);
}

/**
 * How runs of kind "chat.answer" end. Started by ChatStartInference.
 * The runtime calls exactly one hook, once, per run; each publishes the run's terminal event,
 * so that no answer is left "streaming" after a stop, a failure or a crash.
 * Terminal events (ends_runs: "chat.answer"): ChatInferenceFinished, ChatInferenceFailed, ChatInferenceStopped, ChatInferenceInterrupted.
 * This file is yours: `sessionstream gen` never rewrites it.
 */
export const chatAnswerHooks: AppRunKindHooks = {
  async finished(run, publisher, finishReason) {
    // The work (src/handlers/chat-start-inference.ts) resolved with the model's finish reason.
    await publisher.publish("ChatInferenceFinished", { messageId: messageIdOf(run), finishReason: typeof finishReason === "string" ? finishReason : "" });
  },
  async stopped(run, publisher) {
    await publisher.publish("ChatInferenceStopped", { messageId: messageIdOf(run) });
  },
  async failed(run, publisher, error) {
    await publisher.publish("ChatInferenceFailed", { messageId: messageIdOf(run), error: error.message });
  },
  async interrupted(run, publisher) {
    await publisher.publish("ChatInferenceInterrupted", { messageId: messageIdOf(run) });
  },
};
