// The chat domain of DESIGN section 2, wired by hand, shared by runtime,
// store and transport tests.
import { create } from "@bufbuild/protobuf";
import { Hub, SchemaRegistry, type HubOptions, type HydrationStore, type UIFanout } from "../../src/index.js";
import {
  ChatMessageEntitySchema,
  ChatMessageUpdateSchema,
  InferenceFinishedEventSchema,
  InferenceStartedEventSchema,
  MessageDeletedEventSchema,
  StartInferenceCommandSchema,
  StopInferenceCommandSchema,
  TokensDeltaEventSchema,
} from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";

export function chatRegistry() {
  return new SchemaRegistry()
    .registerCommand("ChatStartInference", StartInferenceCommandSchema)
    .registerCommand("ChatStopInference", StopInferenceCommandSchema)
    .registerEvent("ChatInferenceStarted", InferenceStartedEventSchema)
    .registerEvent("ChatTokensDelta", TokensDeltaEventSchema)
    .registerEvent("ChatInferenceFinished", InferenceFinishedEventSchema)
    .registerEvent("ChatMessageDeleted", MessageDeletedEventSchema)
    .registerUIEvent("ChatMessageStarted", ChatMessageUpdateSchema)
    .registerUIEvent("ChatMessageAppended", ChatMessageUpdateSchema)
    .registerUIEvent("ChatMessageFinished", ChatMessageUpdateSchema)
    .registerUIEvent("ChatMessageDeleted", ChatMessageUpdateSchema)
    .registerTimelineEntity("ChatMessage", ChatMessageEntitySchema);
}

export type ChatRegistry = ReturnType<typeof chatRegistry>;
export type ChatSchema = ChatRegistry extends SchemaRegistry<infer S> ? S : never;

export interface ChatAppOptions {
  readonly store?: HydrationStore;
  readonly fanout?: UIFanout;
  readonly registry?: ChatRegistry;
  /** Tokens the fake model streams for each prompt. */
  readonly tokens?: readonly string[];
  readonly hubOptions?: Partial<HubOptions<ChatSchema>>;
}

/** A hub with the chat handlers and projections registered. */
export function chatHub(options: ChatAppOptions = {}): Hub<ChatSchema> {
  const registry = options.registry ?? chatRegistry();
  const tokens = options.tokens ?? ["Ordinals ", "order ", "events."];
  const hub = new Hub({
    registry,
    ...(options.store ? { store: options.store } : {}),
    ...(options.fanout ? { fanout: options.fanout } : {}),
    ...options.hubOptions,
  });
  let nextId = 0;
  hub.registerCommand("ChatStartInference", async (cmd, _session, pub) => {
    const messageId = `m${++nextId}`;
    await pub.publish("ChatInferenceStarted", { messageId, prompt: cmd.payload.prompt });
    for (const chunk of tokens) await pub.publish("ChatTokensDelta", { messageId, chunk });
    await pub.publish("ChatInferenceFinished", create(InferenceFinishedEventSchema, { messageId }));
  });
  hub.registerUIProjection((ev) => {
    switch (ev.name) {
      case "ChatInferenceStarted":
        return [{ name: "ChatMessageStarted", payload: { messageId: ev.payload.messageId, role: "assistant", status: "streaming" } }];
      case "ChatTokensDelta":
        return [{ name: "ChatMessageAppended", payload: { messageId: ev.payload.messageId, chunk: ev.payload.chunk } }];
      case "ChatInferenceFinished":
        return [{ name: "ChatMessageFinished", payload: { messageId: ev.payload.messageId, status: "finished" } }];
      case "ChatMessageDeleted":
        return [{ name: "ChatMessageDeleted", payload: { messageId: ev.payload.messageId } }];
    }
    return [];
  });
  hub.registerTimelineProjection((ev, _session, view) => {
    switch (ev.name) {
      case "ChatInferenceStarted":
        return [{ kind: "ChatMessage", id: ev.payload.messageId, payload: { messageId: ev.payload.messageId, role: "assistant", status: "streaming" } }];
      case "ChatTokensDelta": {
        const prev = view.get("ChatMessage", ev.payload.messageId)?.payload as { text: string } | undefined;
        return [
          {
            kind: "ChatMessage",
            id: ev.payload.messageId,
            payload: { messageId: ev.payload.messageId, role: "assistant", status: "streaming", text: (prev?.text ?? "") + ev.payload.chunk },
          },
        ];
      }
      case "ChatInferenceFinished": {
        const prev = view.get("ChatMessage", ev.payload.messageId)?.payload as { text: string } | undefined;
        return [
          {
            kind: "ChatMessage",
            id: ev.payload.messageId,
            payload: { messageId: ev.payload.messageId, role: "assistant", status: "finished", text: prev?.text ?? "" },
          },
        ];
      }
      case "ChatMessageDeleted":
        return [{ kind: "ChatMessage", id: ev.payload.messageId, tombstone: true }];
    }
    return [];
  });
  return hub;
}

/** Folds UI events the way a client would: message id -> { text, status }. */
export function foldChatUI(events: ReadonlyArray<{ name: string; payload: { messageId?: string; chunk?: string; status?: string } }>) {
  const state = new Map<string, { text: string; status: string }>();
  for (const ev of events) {
    const id = ev.payload.messageId ?? "";
    const cur = state.get(id) ?? { text: "", status: "" };
    if (ev.name === "ChatMessageStarted") state.set(id, { text: "", status: ev.payload.status ?? "" });
    else if (ev.name === "ChatMessageAppended") state.set(id, { ...cur, text: cur.text + (ev.payload.chunk ?? "") });
    else if (ev.name === "ChatMessageFinished") state.set(id, { ...cur, status: ev.payload.status ?? "" });
    else if (ev.name === "ChatMessageDeleted") state.delete(id);
  }
  return state;
}
