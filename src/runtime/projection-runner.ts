import type { Message } from "@bufbuild/protobuf";
import type { AppSchema } from "./app-schema.js";
import { SessionstreamError, type RuntimeErrorKind } from "./errors.js";
import type { BackendEvent, BackendEventEnvelope, TimelineProjection, UIEvent, UIProjection } from "./handlers.js";
import { coercePayload } from "./payload.js";
import type { SchemaRegistry } from "./registry.js";
import type { Session } from "./session.js";
import { EntityChanges } from "./entity-changes.js";
import type { TimelineEntity, TimelineState, TimelineView } from "./timeline.js";

/** No UI events: shared, so an event without any allocates no array (frozen: nothing may add to it). */
const NO_UI: UIEvent[] = Object.freeze([]) as unknown as UIEvent[];

/**
 * What happens when a projection throws or returns something invalid:
 * `fail` rejects `publish` and applies nothing (the ordinal is not consumed);
 * `advance` records the error, drops that family's output and applies the event.
 */
export type ProjectionErrorPolicy = "fail" | "advance";

/** Receives each projection failure; `record` is false during a rebuild replay. */
export type ProjectionFailureSink = (
  kind: Extract<RuntimeErrorKind, "ui_projection" | "timeline_projection">,
  event: BackendEventEnvelope,
  error: SessionstreamError,
  record: boolean,
) => void;

/**
 * Runs the registered UI and timeline projections of one event against the
 * session's timeline, validates what they return against the registry, fills
 * in entity ordinals, and applies the failure policy of each family.
 */
export class ProjectionRunner<S extends AppSchema> {
  readonly ui: UIProjection<S>[] = [];
  readonly timeline: TimelineProjection<S>[] = [];
  readonly #registry: SchemaRegistry<S>;
  readonly #policy: { readonly ui: ProjectionErrorPolicy; readonly timeline: ProjectionErrorPolicy };
  readonly #onFailure: ProjectionFailureSink;

  constructor(
    registry: SchemaRegistry<S>,
    policy: { readonly ui?: ProjectionErrorPolicy; readonly timeline?: ProjectionErrorPolicy } | undefined,
    onFailure: ProjectionFailureSink,
  ) {
    this.#registry = registry;
    this.#policy = { ui: policy?.ui ?? "fail", timeline: policy?.timeline ?? "fail" };
    this.#onFailure = onFailure;
  }

  /**
   * The validated UI events of `event`, in projection order. Synchronous
   * projections are not awaited (no microtask per event); the result is a
   * promise only when a projection returned one.
   */
  projectUI(event: BackendEventEnvelope, session: Session, timeline: TimelineState): UIEvent[] | Promise<UIEvent[]> {
    if (this.ui.length === 0) return NO_UI;
    const view = timeline.readonlyView();
    let out = NO_UI;
    try {
      for (let i = 0; i < this.ui.length; i++) {
        const returned = this.ui[i]!(event as BackendEvent<S>, session, view);
        if (returned instanceof Promise) return this.#finishUI(event, session, view, returned, i, out);
        out = this.#collectUI(returned, out);
      }
      return out;
    } catch (err) {
      return this.#failed("ui_projection", event, err, true);
    }
  }

  /** The entity changes of `event` with ordinals filled in; the last change of one (kind, id) wins. */
  projectTimeline(event: BackendEventEnvelope, session: Session, timeline: TimelineState, replay = false): TimelineEntity[] | Promise<TimelineEntity[]> {
    if (this.timeline.length === 0) return [];
    const view = timeline.readonlyView();
    try {
      const first = this.timeline[0]!(event as BackendEvent<S>, session, view);
      // The usual: one projection, one entity. Nothing to merge, so no EntityChanges.
      if (this.timeline.length === 1 && Array.isArray(first) && first.length === 1) return [this.#fillEntity(first[0], event.ordinal, timeline, undefined)];
      const changes = new EntityChanges();
      for (let i = 0; i < this.timeline.length; i++) {
        const returned = i === 0 ? first : this.timeline[i]!(event as BackendEvent<S>, session, view);
        if (returned instanceof Promise) return this.#finishTimeline(event, session, timeline, view, returned, i, changes, replay);
        this.#collectEntities(returned, event.ordinal, timeline, changes);
      }
      return changes.list;
    } catch (err) {
      return this.#failed("timeline_projection", event, err, !replay);
    }
  }

  // The async continuations live in their own methods: closures in the
  // project methods would make every call allocate a context for the
  // variables they capture, async or not.
  #finishUI(event: BackendEventEnvelope, session: Session, view: TimelineView, pending: Promise<unknown>, index: number, out: UIEvent[]): Promise<UIEvent[]> {
    const collect = (result: unknown) => void (out = this.#collectUI(result, out));
    return this.#finishAsync("ui_projection", event, true, pending, index, collect, (p) => p(event as BackendEvent<S>, session, view)).then((ok) => (ok ? out : []));
  }

  #finishTimeline(
    event: BackendEventEnvelope,
    session: Session,
    timeline: TimelineState,
    view: TimelineView,
    pending: Promise<unknown>,
    index: number,
    changes: EntityChanges,
    replay: boolean,
  ): Promise<TimelineEntity[]> {
    const collect = (result: unknown) => this.#collectEntities(result, event.ordinal, timeline, changes);
    return this.#finishAsync("timeline_projection", event, !replay, pending, index, collect, (p) => p(event as BackendEvent<S>, session, view)).then((ok) => (ok ? changes.list : []));
  }

  /** `out` with the validated UI events of one projection's `result` appended (a new array when `out` is empty: it may be `NO_UI`). */
  #collectUI(result: unknown, out: UIEvent[]): UIEvent[] {
    if (!Array.isArray(result)) throw new TypeError(`UI projection returned ${typeof result}, expected an array`);
    const returned = result as ReadonlyArray<{ name: string; payload: unknown }>;
    if (returned.length === 0) return out;
    // The usual single UI event: an array of one, not a first push (which reserves 17 slots).
    if (out.length === 0) return returned.length === 1 ? [this.#validUI(returned[0]!)] : returned.map((ui) => this.#validUI(ui));
    for (const ui of returned) out.push(this.#validUI(ui));
    return out;
  }

  #validUI(ui: { name: string; payload: unknown }): UIEvent {
    const schema = this.#registry.require("uiEvents", ui?.name);
    return { name: ui.name, payload: coercePayload(schema, ui.payload, "UI event", ui.name) };
  }

  #collectEntities(result: unknown, ordinal: bigint, timeline: TimelineState, changes: EntityChanges): void {
    if (!Array.isArray(result)) throw new TypeError(`timeline projection returned ${typeof result}, expected an array`);
    for (const out of result as ReadonlyArray<{ kind: string; id: string }>) {
      const at = changes.indexOf(out.kind, out.id);
      changes.put(at, this.#fillEntity(out, ordinal, timeline, at >= 0 ? changes.list[at] : undefined));
    }
  }

  /** The rest of a family's projections once one returned a promise; false when it failed under `advance`. */
  async #finishAsync<P extends UIProjection<S> | TimelineProjection<S>>(
    kind: "ui_projection" | "timeline_projection",
    event: BackendEventEnvelope,
    record: boolean,
    pending: Promise<unknown>,
    index: number,
    collect: (result: unknown) => void,
    call: (projection: P) => unknown,
  ): Promise<boolean> {
    const projections = (kind === "ui_projection" ? this.ui : this.timeline) as P[];
    try {
      collect(await pending);
      for (let i = index + 1; i < projections.length; i++) collect(await call(projections[i]!));
      return true;
    } catch (err) {
      this.#failed(kind, event, err, record);
      return false;
    }
  }

  /** Validates a projected entity and fills in its ordinals; `createdOrdinal` survives updates. */
  #fillEntity(
    out: { kind: string; id: string; payload?: unknown; tombstone?: boolean },
    ordinal: bigint,
    timeline: TimelineState,
    pending: TimelineEntity | undefined,
  ): TimelineEntity {
    const schema = this.#registry.require("entities", out?.kind);
    if (typeof out.id !== "string" || out.id === "") {
      throw new SessionstreamError("invalid_argument", `timeline entity of kind "${out.kind}" needs a non-empty string id`);
    }
    const earlier = pending ?? timeline.get(out.kind, out.id);
    const tombstone = out.tombstone === true;
    let payload: Message;
    if (out.payload !== undefined) payload = coercePayload(schema, out.payload, "timeline entity", out.kind);
    else if (tombstone) payload = earlier?.payload ?? coercePayload(schema, {}, "timeline entity", out.kind);
    else throw new SessionstreamError("invalid_argument", `timeline entity "${out.kind}" "${out.id}" has no payload`);
    return {
      kind: out.kind,
      id: out.id,
      createdOrdinal: earlier && !earlier.tombstone ? earlier.createdOrdinal : ordinal,
      lastEventOrdinal: ordinal,
      tombstone,
      payload,
    };
  }

  /** Reports the failure; throws under `fail`, returns no output under `advance`. */
  #failed(kind: "ui_projection" | "timeline_projection", event: BackendEventEnvelope, err: unknown, record: boolean): never[] {
    const family = kind === "ui_projection" ? "UI" : "timeline";
    const error = new SessionstreamError(
      "projection_failed",
      `${family} projection failed for event "${event.name}" (ordinal ${event.ordinal}) in session "${event.sessionId}": ${
        err instanceof Error ? err.message : String(err)
      }`,
      { cause: err },
    );
    const policy = kind === "ui_projection" ? this.#policy.ui : this.#policy.timeline;
    this.#onFailure(kind, event, error, policy === "advance" && record);
    if (policy === "fail") throw error;
    return [];
  }
}
