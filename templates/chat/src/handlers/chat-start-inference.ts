import { randomUUID } from "node:crypto";
import type { ChatCommandHandler, ChatRunKind } from "../gen/chat/v1/chat_sessionstream.js";
import { streamAnswer } from "../fake-model.js";
import { openaiConfig, streamFromOpenAI } from "../openai-model.js";
import { answerRunId, type AnswerData } from "../runs/chat-answer.js";

/**
 * Handles the command "ChatStartInference": records the prompt and starts the
 * answer as a run of kind "chat.answer", recorded in the store. The command
 * returns as soon as the run has started; the answer streams whatever happens
 * to the socket, the hooks in src/runs/chat-answer.ts publish how it ended,
 * and if the process dies mid-answer the next start marks it `interrupted`
 * (never "streaming" forever).
 */
export const chatStartInference: ChatCommandHandler<"ChatStartInference"> = async (command, session, publisher) => {
  const turn = randomUUID().slice(0, 8);
  const { prompt } = command.payload;
  await publisher.publish("ChatInferenceAccepted", { messageId: `user-${turn}`, prompt });
  const messageId = `assistant-${turn}`;
  // The work runs detached from the command and from any socket: it starts the
  // assistant's message, streams the answer (the fake model unless MODEL and
  // OPENAI_BASE_URL, or OPENAI_API_KEY, are set) and resolves with the finish reason.
  await publisher.startRun({ kind: "chat.answer" satisfies ChatRunKind, runId: answerRunId(messageId), data: { messageId } satisfies AnswerData }, async (run) => {
    await run.publish("ChatInferenceStarted", { messageId });
    const model = openaiConfig();
    return model ? streamFromOpenAI(run, messageId, prompt, model) : streamAnswer(run, messageId, prompt);
  });
};
