// A tiny app with one run kind ("answer"), shared by the runs tests and the
// child process they kill: each run streams tokens into a Message entity
// (status "streaming"); its terminal event sets the status to the run's end
// state ("finished", "stopped", "failed", "interrupted").
import { Hub, SchemaRegistry, type EventPublisher, type HubOptions, type HydrationStore, type RunRecord, type UIFanout } from "../../src/index.js";
import { ChatMessageEntitySchema, ChatMessageUpdateSchema, TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";

export function runsRegistry() {
  return new SchemaRegistry()
    .registerEvent("Token", TokensDeltaEventSchema)
    .registerEvent("Ended", TokensDeltaEventSchema)
    .registerUIEvent("MessageChanged", ChatMessageUpdateSchema)
    .registerTimelineEntity("Message", ChatMessageEntitySchema);
}
export type RunsSchema = ReturnType<typeof runsRegistry> extends SchemaRegistry<infer S> ? S : never;

export interface RunsAppOptions {
  readonly store?: HydrationStore;
  readonly fanout?: UIFanout;
  readonly hubOptions?: Partial<HubOptions<RunsSchema>>;
}

/** The hub with the projections and the "answer" kind's hooks: each publishes one `Ended` event whose chunk is the state. */
export function runsHub(options: RunsAppOptions = {}): Hub<RunsSchema> {
  const hub = new Hub({
    registry: runsRegistry(),
    ...(options.store ? { store: options.store } : {}),
    ...(options.fanout ? { fanout: options.fanout } : {}),
    ...options.hubOptions,
  });
  const end = (state: string) => (run: RunRecord, pub: EventPublisher<RunsSchema>) =>
    pub.publish("Ended", { messageId: String(run.data["messageId"]), chunk: state }).then(() => {});
  hub.registerRunKind("answer", {
    finished: end("finished"),
    stopped: end("stopped"),
    failed: end("failed"),
    interrupted: end("interrupted"),
  });
  hub.registerUIProjection((ev) => [{ name: "MessageChanged", payload: { messageId: ev.payload.messageId, status: ev.name === "Token" ? "streaming" : ev.payload.chunk } }]);
  hub.registerTimelineProjection((ev, _s, view) => {
    const prev = view.get("Message", ev.payload.messageId)?.payload as { text?: string } | undefined;
    const text = (prev?.text ?? "") + (ev.name === "Token" ? ev.payload.chunk : "");
    return [{ kind: "Message", id: ev.payload.messageId, payload: { messageId: ev.payload.messageId, text, status: ev.name === "Token" ? "streaming" : ev.payload.chunk } }];
  });
  return hub;
}

/** Work that publishes `count` tokens `delayMs` apart (forever when count is Infinity), honouring the signal. */
export function tokens(messageId: string, count: number, delayMs: number) {
  return async ({ signal, publish }: { signal: AbortSignal; publish: (name: "Token", payload: { messageId: string; chunk: string }) => Promise<bigint> }) => {
    for (let i = 0; i < count; i++) {
      await new Promise((r) => setTimeout(r, delayMs));
      signal.throwIfAborted();
      await publish("Token", { messageId, chunk: `t${i} ` });
    }
  };
}

/** Message id -> status, from a snapshot. */
export async function statuses(hub: Hub<RunsSchema>, sessionId: string): Promise<Record<string, string>> {
  const snap = await hub.snapshot(sessionId);
  return Object.fromEntries(snap.entities.map((e) => [e.id, (e.payload as unknown as { status: string }).status]));
}
