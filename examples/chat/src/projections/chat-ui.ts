import type { ChatUIProjectionCases } from "../gen/chat/v1/chat_sessionstream.js";

/**
 * UI projection of chat/v1/chat.proto: the live updates the page folds into
 * its copy of the timeline (see public/chat.js).
 */
export const chatUICases: ChatUIProjectionCases = {
  ChatInferenceAccepted(event) {
    const { messageId, prompt } = event.payload;
    return [{ name: "ChatUserMessageAdded", payload: { messageId, role: "user", text: prompt, status: "finished" } }];
  },
  ChatInferenceStarted(event) {
    return [{ name: "ChatMessageStarted", payload: { messageId: event.payload.messageId, role: "assistant", status: "streaming" } }];
  },
  ChatTokensDelta(event) {
    return [{ name: "ChatMessageAppended", payload: { messageId: event.payload.messageId, text: event.payload.chunk, status: "streaming" } }];
  },
  ChatInferenceFinished(event) {
    return [{ name: "ChatMessageFinished", payload: { messageId: event.payload.messageId, status: "finished" } }];
  },
  ChatInferenceStopped(event) {
    return [{ name: "ChatMessageStopped", payload: { messageId: event.payload.messageId, status: "stopped" } }];
  },
  ChatInferenceFailed(event) {
    return [{ name: "ChatMessageFailed", payload: { messageId: event.payload.messageId, status: "failed", error: event.payload.error } }];
  },
  ChatInferenceInterrupted(event) {
    return [{ name: "ChatMessageInterrupted", payload: { messageId: event.payload.messageId, status: "interrupted" } }];
  },
};
