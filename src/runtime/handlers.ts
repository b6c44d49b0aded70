import type { Message } from "@bufbuild/protobuf";
import type { AppSchema, NamesOf, PayloadInputOf, PayloadOf } from "./app-schema.js";
import type { Session } from "./session.js";
import type { TimelineView } from "./timeline.js";

/** A command as a handler receives it. */
export interface CommandEnvelope<P extends Message = Message, N extends string = string> {
  readonly name: N;
  readonly sessionId: string;
  readonly payload: P;
}

/** A backend event as projections and observers receive it, with its assigned ordinal. */
export interface BackendEventEnvelope<P extends Message = Message, N extends string = string> {
  readonly name: N;
  readonly sessionId: string;
  readonly ordinal: bigint;
  readonly payload: P;
}

/** Union of every typed backend event of an app schema, discriminated by `name`. */
export type BackendEvent<S extends AppSchema> = {
  [N in NamesOf<S["events"]>]: BackendEventEnvelope<PayloadOf<S["events"], N>, N>;
}[NamesOf<S["events"]>];

/** A UI event as a projection returns it. */
export type UIEventOutput<S extends AppSchema> = {
  [N in NamesOf<S["uiEvents"]>]: { readonly name: N; readonly payload: PayloadInputOf<S["uiEvents"], N> };
}[NamesOf<S["uiEvents"]>];

/** A timeline entity change as a projection returns it; the hub fills in the ordinals. */
export type TimelineEntityOutput<S extends AppSchema> = {
  [K in NamesOf<S["entities"]>]:
    | { readonly kind: K; readonly id: string; readonly payload: PayloadInputOf<S["entities"], K>; readonly tombstone?: false }
    | { readonly kind: K; readonly id: string; readonly payload?: PayloadInputOf<S["entities"], K>; readonly tombstone: true };
}[NamesOf<S["entities"]>];

/** A UI event after validation, as the fanout receives it. */
export interface UIEvent {
  readonly name: string;
  readonly payload: Message;
}

/** Publishes backend events for one session. */
export interface EventPublisher<S extends AppSchema> {
  readonly sessionId: string;
  /**
   * Validates the name and payload type, assigns the next ordinal, runs the
   * projections, applies the result to the store and fans out the UI events.
   * Resolves with the ordinal once the event is durably applied.
   */
  publish<N extends NamesOf<S["events"]>>(name: N, payload: PayloadInputOf<S["events"], N>): Promise<bigint>;
}

/** Handles one command. Publishes events; never returns UI state. */
export type CommandHandler<S extends AppSchema, N extends NamesOf<S["commands"]> = NamesOf<S["commands"]>> = (
  command: CommandEnvelope<PayloadOf<S["commands"], N>, N>,
  session: Session,
  publisher: EventPublisher<S>,
) => void | Promise<void>;

/** Derives live UI events from a backend event. */
export type UIProjection<S extends AppSchema> = (
  event: BackendEvent<S>,
  session: Session,
  view: TimelineView,
) => readonly UIEventOutput<S>[] | Promise<readonly UIEventOutput<S>[]>;

/** Derives durable timeline entity changes from a backend event. */
export type TimelineProjection<S extends AppSchema> = (
  event: BackendEvent<S>,
  session: Session,
  view: TimelineView,
) => readonly TimelineEntityOutput<S>[] | Promise<readonly TimelineEntityOutput<S>[]>;

/** Receives each applied event's UI events, in ordinal order per session (e.g. the websocket server). */
export interface UIFanout {
  publishUI(sessionId: string, ordinal: bigint, uiEvents: readonly UIEvent[]): void | Promise<void>;
  /**
   * Called after `rebuildTimeline` swapped in a rebuilt timeline (a new
   * epoch), so live subscribers can be sent a reset snapshot. Optional.
   */
  timelineRebuilt?(sessionId: string): void;
}

/** What observers (the dev inspector, tests) see after each applied event. */
export interface AppliedEvent {
  readonly event: BackendEventEnvelope;
  readonly uiEvents: readonly UIEvent[];
  readonly entities: readonly import("./timeline.js").TimelineEntity[];
}
