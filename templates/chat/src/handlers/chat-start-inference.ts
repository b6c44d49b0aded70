import { randomUUID } from "node:crypto";
import type { ChatCommandHandler } from "../gen/chat/v1/chat_sessionstream.js";
import { streamAnswer } from "../fake-model.js";
import { openaiConfig, streamFromOpenAI } from "../openai-model.js";

/**
 * Handles the command "ChatStartInference": records the prompt, starts the
 * answer, and streams it in the background. The command returns as soon as
 * the run has started; the stream continues whatever happens to the socket.
 */
export const chatStartInference: ChatCommandHandler<"ChatStartInference"> = async (command, session, publisher) => {
  const turn = randomUUID().slice(0, 8);
  await publisher.publish("ChatInferenceAccepted", { messageId: `user-${turn}`, prompt: command.payload.prompt });
  const messageId = `assistant-${turn}`;
  await publisher.publish("ChatInferenceStarted", { messageId });
  // The fake model unless MODEL and OPENAI_BASE_URL (or OPENAI_API_KEY) are set.
  const model = openaiConfig();
  void (model ? streamFromOpenAI(publisher, messageId, command.payload.prompt, model) : streamAnswer(publisher, messageId, command.payload.prompt));
};
