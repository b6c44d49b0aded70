import type { Message } from "@bufbuild/protobuf";
import type { AppSchema, NamesOf, PayloadInputOf, PayloadOf } from "./app-schema.js";
import type { RunHandle, RunRecord, RunSpec, RunWork, StopResult } from "./runs.js";
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

/**
 * What a command handler receives as its publisher: it publishes the
 * session's events, and starts and stops the session's runs (long work that
 * outlives the command, see `docs/runs.md`). The run methods are the hub's
 * (`hub.startRun`, `hub.stopRun`, `hub.stopRuns`, `hub.runs`) bound to the
 * command's session.
 */
export interface CommandPublisher<S extends AppSchema> extends EventPublisher<S> {
  /**
   * Starts a run of a registered kind for this session and resolves with its
   * handle at once (the run is recorded `running`); `work` runs detached with
   * an `AbortSignal` and a publisher. Return from the handler without
   * awaiting `done`: a client going away never stops the run.
   */
  startRun(spec: RunSpec, work: RunWork<S>): Promise<RunHandle>;
  /**
   * Stops one run of this session (in this process at once, after a restart
   * too: a run a dead process left is ended here). Never silent: a run that
   * is over answers `{ stopped: false, state }`; an id that is not a run of
   * this session answers `state: "unknown"`.
   */
  stopRun(runId: string): Promise<StopResult>;
  /** Stops every running run of this session; resolves with one answer per run (empty when none was running). */
  stopRuns(): Promise<StopResult[]>;
  /** This session's runs, oldest first, in every state. */
  runs(): Promise<RunRecord[]>;
}

/** Handles one command. Publishes events (and starts runs); never returns UI state. */
export type CommandHandler<S extends AppSchema, N extends NamesOf<S["commands"]> = NamesOf<S["commands"]>> = (
  command: CommandEnvelope<PayloadOf<S["commands"], N>, N>,
  session: Session,
  publisher: CommandPublisher<S>,
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
  /**
   * An applied event that has no UI events. Ordinals are dense per session,
   * so a fanout that sees every ordinal can tell when some never reached it.
   * Optional.
   */
  advance?(sessionId: string, ordinal: bigint): void;
  /**
   * Event `ordinal` was applied, but this process never had its UI events:
   * a cluster bus redelivered it after the node that applied it died before
   * telling the others. Subscribers behind it need a fresh snapshot. Optional.
   */
  missed?(sessionId: string, ordinal: bigint): void;
}

/** What observers (the dev inspector, tests) see after each applied event. */
export interface AppliedEvent {
  readonly event: BackendEventEnvelope;
  readonly uiEvents: readonly UIEvent[];
  readonly entities: readonly import("./timeline.js").TimelineEntity[];
}
