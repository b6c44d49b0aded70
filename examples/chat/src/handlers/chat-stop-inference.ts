import type { ChatCommandHandler } from "../gen/chat/v1/chat_sessionstream.js";
import { requestStop } from "../fake-model.js";
import { abortStream } from "../openai-model.js";

/**
 * Handles the command "ChatStopInference": asks the running stream to stop;
 * it publishes `ChatInferenceStopped` at its next token. Stopping is a
 * command, so a closed tab never stops a run by accident.
 */
export const chatStopInference: ChatCommandHandler<"ChatStopInference"> = async (command) => {
  // A real model's HTTP stream is aborted at once; the fake one stops at its next token.
  if (!abortStream(command.payload.messageId)) requestStop(command.payload.messageId);
};
