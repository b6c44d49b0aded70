import type { TimelineView } from "sessionstream";
import type { ChatMessageEntity } from "../gen/chat/v1/chat_pb.js";
import { ChatEntities, type ChatTimelineProjectionCases } from "../gen/chat/v1/chat_sessionstream.js";

/** The message as the timeline holds it before this event. */
function current(view: TimelineView, messageId: string): ChatMessageEntity | undefined {
  return view.get("ChatMessage", messageId)?.payload as ChatMessageEntity | undefined;
}

/**
 * Timeline projection of chat/v1/chat.proto: the durable ChatMessage entities
 * a reload shows, including an answer that is still streaming, and one whose
 * process died mid-answer (`interrupted`, published by the run's hook).
 */
export const chatTimelineCases: ChatTimelineProjectionCases = {
  ChatInferenceAccepted(event) {
    const { messageId, prompt } = event.payload;
    return [ChatEntities.ChatMessage.upsert({ messageId, role: "user", text: prompt, status: "finished" })];
  },
  ChatInferenceStarted(event) {
    return [ChatEntities.ChatMessage.upsert({ messageId: event.payload.messageId, role: "assistant", text: "", status: "streaming" })];
  },
  ChatTokensDelta(event, session, view) {
    const { messageId, chunk } = event.payload;
    const text = (current(view, messageId)?.text ?? "") + chunk;
    return [ChatEntities.ChatMessage.upsert({ messageId, role: "assistant", text, status: "streaming" })];
  },
  ChatInferenceFinished(event, session, view) {
    const { messageId } = event.payload;
    return [ChatEntities.ChatMessage.upsert({ messageId, role: "assistant", text: current(view, messageId)?.text ?? "", status: "finished" })];
  },
  ChatInferenceStopped(event, session, view) {
    const { messageId } = event.payload;
    return [ChatEntities.ChatMessage.upsert({ messageId, role: "assistant", text: current(view, messageId)?.text ?? "", status: "stopped" })];
  },
  ChatInferenceFailed(event, session, view) {
    const { messageId, error } = event.payload;
    return [ChatEntities.ChatMessage.upsert({ messageId, role: "assistant", text: current(view, messageId)?.text ?? "", status: "failed", error })];
  },
  ChatInferenceInterrupted(event, session, view) {
    const { messageId } = event.payload;
    return [ChatEntities.ChatMessage.upsert({ messageId, role: "assistant", text: current(view, messageId)?.text ?? "", status: "interrupted" })];
  },
};
