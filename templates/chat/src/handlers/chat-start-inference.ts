import { randomUUID } from "node:crypto";
import type { ChatCommandHandler } from "../gen/chat/v1/chat_sessionstream.js";
import { answerRunId, answerWork, CHAT_ANSWER } from "../runs.js";

/**
 * Handles the command "ChatStartInference": records the prompt and starts the
 * answer as a run (src/runs.ts), recorded in the store. The command returns
 * as soon as the run has started; the answer streams whatever happens to the
 * socket, and if the process dies mid-answer the next start marks it
 * `interrupted` (never "streaming" forever).
 */
export const chatStartInference: ChatCommandHandler<"ChatStartInference"> = async (command, session, publisher) => {
  const turn = randomUUID().slice(0, 8);
  const { prompt } = command.payload;
  await publisher.publish("ChatInferenceAccepted", { messageId: `user-${turn}`, prompt });
  const messageId = `assistant-${turn}`;
  await publisher.startRun({ kind: CHAT_ANSWER, runId: answerRunId(messageId), data: { messageId } }, answerWork(messageId, prompt));
};
