// The chat domain used by the runtime scenarios: one registry, the UI and
// timeline projection functions (shared verbatim by the hub and by the bare
// baselines), and a deterministic event stream.
//
// Projections return messages built with `create(...)`, as typed generated
// code would: the hub then passes them through without a copy, and the
// baseline pays the same construction cost.
import { create, type Message } from "@bufbuild/protobuf";
import {
  ChatMessageEntitySchema,
  ChatMessageUpdateSchema,
  InferenceFinishedEventSchema,
  InferenceStartedEventSchema,
  MessageDeletedEventSchema,
  StartInferenceCommandSchema,
  TokensDeltaEventSchema,
  type ChatMessageEntity,
} from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import type { Hub, SchemaRegistry, TimelineView } from "../../src/index.js";
import { core } from "./pkg.js";

export function benchRegistry() {
  return new core.SchemaRegistry()
    .registerCommand("ChatStartInference", StartInferenceCommandSchema)
    .registerEvent("ChatInferenceStarted", InferenceStartedEventSchema)
    .registerEvent("ChatTokensDelta", TokensDeltaEventSchema)
    .registerEvent("ChatInferenceFinished", InferenceFinishedEventSchema)
    .registerEvent("ChatMessageDeleted", MessageDeletedEventSchema)
    .registerUIEvent("ChatMessageStarted", ChatMessageUpdateSchema)
    .registerUIEvent("ChatMessageAppended", ChatMessageUpdateSchema)
    .registerUIEvent("ChatMessageFinished", ChatMessageUpdateSchema)
    .registerTimelineEntity("ChatMessage", ChatMessageEntitySchema);
}

export type BenchRegistry = ReturnType<typeof benchRegistry>;
export type BenchSchema = BenchRegistry extends SchemaRegistry<infer S> ? S : never;

/** A backend event as both sides see it. */
export interface BenchEvent {
  readonly name: "ChatInferenceStarted" | "ChatTokensDelta" | "ChatInferenceFinished";
  readonly payload: Message & { messageId: string; chunk?: string; prompt?: string };
}

export interface ProjectedUI {
  readonly name: string;
  readonly payload: Message;
}

export interface ProjectedEntity {
  readonly kind: "ChatMessage";
  readonly id: string;
  readonly payload: ChatMessageEntity;
}

/** The UI projection: one UI event per backend event. */
export function uiProjection(ev: { name: string; payload: Message }): ProjectedUI[] {
  const p = ev.payload as BenchEvent["payload"];
  switch (ev.name) {
    case "ChatInferenceStarted":
      return [{ name: "ChatMessageStarted", payload: create(ChatMessageUpdateSchema, { messageId: p.messageId, role: "assistant", status: "streaming" }) }];
    case "ChatTokensDelta":
      return [{ name: "ChatMessageAppended", payload: create(ChatMessageUpdateSchema, { messageId: p.messageId, chunk: p.chunk ?? "" }) }];
    case "ChatInferenceFinished":
      return [{ name: "ChatMessageFinished", payload: create(ChatMessageUpdateSchema, { messageId: p.messageId, status: "finished" }) }];
  }
  return [];
}

/** The timeline projection: upserts the ChatMessage entity, appending deltas to its text. */
export function timelineProjection(ev: { name: string; payload: Message }, view: Pick<TimelineView, "get">): ProjectedEntity[] {
  const p = ev.payload as BenchEvent["payload"];
  const prev = view.get("ChatMessage", p.messageId)?.payload as ChatMessageEntity | undefined;
  switch (ev.name) {
    case "ChatInferenceStarted":
      return [{ kind: "ChatMessage", id: p.messageId, payload: create(ChatMessageEntitySchema, { messageId: p.messageId, role: "assistant", status: "streaming" }) }];
    case "ChatTokensDelta":
      return [
        {
          kind: "ChatMessage",
          id: p.messageId,
          payload: create(ChatMessageEntitySchema, { messageId: p.messageId, role: "assistant", status: "streaming", text: (prev?.text ?? "") + (p.chunk ?? "") }),
        },
      ];
    case "ChatInferenceFinished":
      return [
        {
          kind: "ChatMessage",
          id: p.messageId,
          payload: create(ChatMessageEntitySchema, { messageId: p.messageId, role: "assistant", status: "finished", text: prev?.text ?? "" }),
        },
      ];
  }
  return [];
}

/** Events per chat message: started, 8 token deltas, finished. */
export const EVENTS_PER_MESSAGE = 10;

/** `count` events of one session: messages m0, m1, ... each started, 8 deltas, finished. */
export function chatEvents(count: number): BenchEvent[] {
  const out: BenchEvent[] = [];
  for (let i = 0; i < count; i++) {
    const messageId = `m${Math.floor(i / EVENTS_PER_MESSAGE)}`;
    const pos = i % EVENTS_PER_MESSAGE;
    if (pos === 0) out.push({ name: "ChatInferenceStarted", payload: create(InferenceStartedEventSchema, { messageId, prompt: "Explain ordinals" }) });
    else if (pos === EVENTS_PER_MESSAGE - 1) out.push({ name: "ChatInferenceFinished", payload: create(InferenceFinishedEventSchema, { messageId }) });
    else out.push({ name: "ChatTokensDelta", payload: create(TokensDeltaEventSchema, { messageId, chunk: `token${pos} ` }) });
  }
  return out;
}

/** Registers the bench projections on a hub. */
export function registerBenchProjections(hub: Hub<BenchSchema>, which: { ui?: boolean; timeline?: boolean } = {}): void {
  if (which.ui !== false) hub.registerUIProjection((ev) => uiProjection(ev) as never);
  if (which.timeline !== false) hub.registerTimelineProjection((ev, _session, view) => timelineProjection(ev, view) as never);
}

export function sessionIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `session-${i}`);
}
