import type { AnyJson, JsonRecord, WireResumeKind, WireServerFrame } from "./wire.js";

/** Decodes `Any` payloads into typed messages (see `createPayloadDecoder` in "sessionstream"). */
export interface PayloadDecoder {
  /** `typeName` is the full protobuf name (e.g. `chat.v1.ChatMessageUpdate`); `json` is its protobuf JSON without `@type`. */
  decode(typeName: string, json: JsonRecord): unknown;
}

/** A timeline entity as the client holds it. `payload` is a decoded message given a decoder, else protobuf JSON. */
export interface ClientEntity<P = unknown> {
  readonly kind: string;
  readonly id: string;
  readonly createdOrdinal: bigint;
  readonly lastEventOrdinal: bigint;
  readonly typeName: string;
  readonly payload: P;
}

/** A live UI event. `payload` is a decoded message given a decoder, else protobuf JSON. */
export interface ClientUIEvent<P = unknown> {
  readonly sessionId: string;
  readonly ordinal: bigint;
  readonly name: string;
  readonly typeName: string;
  readonly payload: P;
}

/**
 * How the last snapshot of a subscription was satisfied (typed resume):
 * `recovered` (a delta: only entities changed after `from`, the rest kept),
 * `snapshot` (a full snapshot replaced the state) or `reset` (the server's
 * timeline epoch changed, e.g. after a timeline rebuild: the state was
 * dropped and replaced by the full snapshot).
 */
export interface ResumeInfo {
  readonly kind: WireResumeKind;
  /** The ordinal the delta starts after (`recovered`); 0n for a full snapshot. */
  readonly from: bigint;
  readonly snapshotOrdinal: bigint;
  /** The timeline epoch of the snapshot; 0n when the server does not tell (then `kind` is inferred: delta or not). */
  readonly epoch: bigint;
  /** Sent unasked because the subscription fell behind (a server with `slowConsumers: "resync"`). */
  readonly resync: boolean;
}

/** Where a subscription is. */
export type SessionStatus = "connecting" | "hydrating" | "live" | "error" | "closed";

/** An immutable state of a session view; the same object until something changes (for `useSyncExternalStore`). */
export interface SessionViewState {
  readonly sessionId: string;
  readonly status: SessionStatus;
  /** The highest backend event ordinal reflected (snapshot or live UI events). */
  readonly ordinal: bigint;
  /** The ordinal of the last snapshot applied. */
  readonly snapshotOrdinal: bigint;
  /** Entities by kind, then id. */
  readonly entities: ReadonlyMap<string, ReadonlyMap<string, ClientEntity>>;
  /** Set when `status` is `error` (e.g. `forbidden`). */
  readonly error?: { readonly code: string; readonly message: string };
  /** How the last snapshot was satisfied (see {@link ResumeInfo}); absent before the first. */
  readonly resume?: ResumeInfo;
}

/** The mutable timeline a {@link UIReducer} updates. */
export interface TimelineDraft {
  get(kind: string, id: string): ClientEntity | undefined;
  /** Creates or replaces an entity; ordinals are filled from the event. */
  set(kind: string, id: string, payload: unknown, typeName?: string): void;
  delete(kind: string, id: string): void;
}

/** Folds a live UI event into the client timeline (the client-side mirror of the timeline projection). */
export type UIReducer = (draft: TimelineDraft, event: ClientUIEvent) => void;

/** Options of a subscription. */
export interface SubscribeOptions {
  /** Applies live UI events to the entities. Without it, entities change only with snapshots. */
  readonly reduce?: UIReducer;
}

/** Callbacks the client wires into a view. */
interface ViewHost {
  readonly decoder: PayloadDecoder | undefined;
  unsubscribe(view: SessionView): void;
}

/**
 * The client's copy of one session: snapshot entities keyed by (kind, id),
 * live UI events, ordinals as bigint. Works with React's
 * `useSyncExternalStore(view.subscribe, view.getSnapshot)` and with plain callbacks.
 */
export class SessionView {
  readonly sessionId: string;
  readonly #host: ViewHost;
  readonly #reduce: UIReducer | undefined;
  readonly #entities = new Map<string, Map<string, ClientEntity>>();
  readonly #listeners = new Set<() => void>();
  readonly #uiListeners = new Set<(event: ClientUIEvent) => void>();
  readonly #dirtyKinds = new Set<string>();
  #status: SessionStatus = "connecting";
  #error: SessionViewState["error"];
  #ordinal = 0n;
  #snapshotOrdinal = 0n;
  /** Frames at or below this ordinal are already reflected (set by each snapshot). */
  #floor = 0n;
  #hasSnapshot = false;
  /** The timeline epoch of the entities held (0n: none told). */
  #epoch = 0n;
  #resume: ResumeInfo | undefined;
  /** A frame of this view could not be handled: later frames are ignored until it resubscribes. */
  #failed = false;
  #state: SessionViewState;
  #changed = false;
  #notifyScheduled = false;

  constructor(sessionId: string, host: ViewHost, options: SubscribeOptions = {}) {
    this.sessionId = sessionId;
    this.#host = host;
    this.#reduce = options.reduce;
    this.#state = this.#build(new Map());
  }

  /** Registers a change listener; returns the function that removes it. Stable identity: safe to pass to `useSyncExternalStore`. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** The current state; the same object until the next change. */
  readonly getSnapshot = (): SessionViewState => {
    if (this.#changed) {
      const kinds = new Map(this.#state.entities);
      for (const kind of this.#dirtyKinds) {
        const m = this.#entities.get(kind);
        if (m && m.size > 0) kinds.set(kind, new Map(m));
        else kinds.delete(kind);
      }
      this.#dirtyKinds.clear();
      this.#state = this.#build(kinds);
      this.#changed = false;
    }
    return this.#state;
  };

  /** Calls `listener` for every live UI event applied (after the snapshot, no duplicates). */
  onUIEvent(listener: (event: ClientUIEvent) => void): () => void {
    this.#uiListeners.add(listener);
    return () => this.#uiListeners.delete(listener);
  }

  get(kind: string, id: string): ClientEntity | undefined {
    return this.#entities.get(kind)?.get(id);
  }

  /** Entities of one kind, by `createdOrdinal` then id. */
  list(kind: string): ClientEntity[] {
    return [...(this.#entities.get(kind)?.values() ?? [])].sort((a, b) =>
      a.createdOrdinal !== b.createdOrdinal ? (a.createdOrdinal < b.createdOrdinal ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  }

  /** Stops the subscription (sends `unsubscribe`); the view keeps its last state with status `closed`. */
  close(): void {
    if (this.#status === "closed") return;
    this.#host.unsubscribe(this);
    this.setStatus("closed");
  }

  /**
   * The ordinal to resume from. With a reducer the entities follow live events;
   * one ordinal back, because a backend event may produce several UI frames and the
   * connection may have dropped between them (entities it touched come back whole).
   * Without a reducer the entities are as of the last snapshot.
   */
  resumeOrdinal(): bigint {
    if (!this.#hasSnapshot) return 0n;
    if (!this.#reduce) return this.#snapshotOrdinal;
    return this.#ordinal > 0n ? this.#ordinal - 1n : 0n;
  }

  /** The timeline epoch of the state {@link resumeOrdinal} resumes from (0n when the server told none). */
  resumeEpoch(): bigint {
    return this.#hasSnapshot ? this.#epoch : 0n;
  }

  /** How the last snapshot was satisfied: recovered (delta), snapshot (full) or reset (epoch changed); `undefined` before the first. */
  getResume(): ResumeInfo | undefined {
    return this.#resume;
  }

  /** @internal Applies a frame addressed to this session. */
  applyFrame(frame: WireServerFrame): void {
    if (this.#failed) return;
    switch (frame.type) {
      case "snapshot":
        return this.#applySnapshot(frame);
      case "uiEvent":
        return this.#applyUIEvent(frame.eventOrdinal, frame.name, frame.payload);
      case "subscribed":
        return this.setStatus("live");
      case "error":
        this.#error = { code: frame.code, message: frame.message };
        return this.setStatus("error");
      default:
        return;
    }
  }

  /**
   * @internal A frame of this view could not be handled (a payload that does
   * not decode, a reducer that throws): status `error` with the reason, later
   * frames ignored, and the next subscribe (on reconnect) starts from a full
   * snapshot. The view never stays `hydrating` waiting for a frame it dropped.
   */
  fail(error: { readonly code: string; readonly message: string }): void {
    if (this.#status === "closed") return;
    this.#failed = true;
    this.#hasSnapshot = false;
    this.#error = error;
    this.#status = "error";
    this.#markChanged();
  }

  /** @internal */
  setStatus(status: SessionStatus): void {
    // A new subscribe starts over after a failed frame.
    if (status === "hydrating" && this.#failed) this.#failed = false;
    if (this.#status === status) return;
    if (this.#status === "closed") return;
    this.#status = status;
    if (status !== "error") this.#error = undefined;
    this.#markChanged();
  }

  get status(): SessionStatus {
    return this.#status;
  }

  #applySnapshot(frame: Extract<WireServerFrame, { type: "snapshot" }>): void {
    // Every payload is decoded before anything changes: one that does not decode leaves the view as it was.
    const decoded = frame.entities.map((e) => (e.tombstone ? undefined : this.#decode(e.payload)));
    // A server that tells the outcome is followed; an older one is judged by the delta base alone.
    const kind: WireResumeKind = frame.resume ?? (frame.changedAfterOrdinal > 0n ? "recovered" : "snapshot");
    const delta = kind === "recovered" && frame.changedAfterOrdinal > 0n && this.#hasSnapshot;
    if (!delta) {
      // `snapshot` and `reset` (the timeline was rebuilt): drop everything held, apply the full snapshot.
      for (const kind of this.#entities.keys()) this.#dirtyKinds.add(kind);
      this.#entities.clear();
    }
    frame.entities.forEach((e, i) => {
      const payload = decoded[i];
      if (payload === undefined) this.#delete(e.kind, e.id);
      else this.#put({ kind: e.kind, id: e.id, createdOrdinal: e.createdOrdinal, lastEventOrdinal: e.lastEventOrdinal, ...payload });
    });
    this.#hasSnapshot = true;
    this.#epoch = frame.epoch;
    this.#resume = Object.freeze({
      kind: delta ? "recovered" : kind === "recovered" ? "snapshot" : kind,
      from: delta ? frame.changedAfterOrdinal : 0n,
      snapshotOrdinal: frame.snapshotOrdinal,
      epoch: frame.epoch,
      resync: frame.resync,
    });
    this.#snapshotOrdinal = frame.snapshotOrdinal;
    this.#ordinal = frame.snapshotOrdinal;
    this.#floor = frame.snapshotOrdinal;
    this.setStatus("hydrating");
    this.#markChanged();
  }

  #applyUIEvent(ordinal: bigint, name: string, payload: AnyJson): void {
    // Already reflected (a resumed subscription), or older than what we hold: ignore.
    if (ordinal <= this.#floor || ordinal < this.#ordinal) return;
    const event: ClientUIEvent = { sessionId: this.sessionId, ordinal, name, ...this.#decode(payload) };
    this.#ordinal = ordinal;
    if (this.#reduce) {
      const view = this;
      this.#reduce(
        {
          get: (kind, id) => view.get(kind, id),
          set(kind, id, value, typeName) {
            const prev = view.get(kind, id);
            view.#put({
              kind,
              id,
              createdOrdinal: prev?.createdOrdinal ?? ordinal,
              lastEventOrdinal: ordinal,
              typeName: typeName ?? prev?.typeName ?? "",
              payload: value,
            });
          },
          delete: (kind, id) => view.#delete(kind, id),
        },
        event,
      );
    }
    this.#markChanged();
    for (const listener of this.#uiListeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not break the stream.
      }
    }
  }

  #decode(payload: AnyJson): { typeName: string; payload: unknown } {
    const decoder = this.#host.decoder;
    return { typeName: payload.typeName, payload: decoder && payload.typeName ? decoder.decode(payload.typeName, payload.json) : payload.json };
  }

  #put(entity: ClientEntity): void {
    let m = this.#entities.get(entity.kind);
    if (!m) this.#entities.set(entity.kind, (m = new Map()));
    m.set(entity.id, entity);
    this.#dirtyKinds.add(entity.kind);
  }

  #delete(kind: string, id: string): void {
    if (this.#entities.get(kind)?.delete(id)) this.#dirtyKinds.add(kind);
  }

  #build(entities: ReadonlyMap<string, ReadonlyMap<string, ClientEntity>>): SessionViewState {
    return Object.freeze({
      sessionId: this.sessionId,
      status: this.#status,
      ordinal: this.#ordinal,
      snapshotOrdinal: this.#snapshotOrdinal,
      entities,
      ...(this.#error ? { error: this.#error } : {}),
      ...(this.#resume ? { resume: this.#resume } : {}),
    });
  }

  /** Coalesces notifications: listeners run once per microtask batch of frames. */
  #markChanged(): void {
    this.#changed = true;
    if (this.#notifyScheduled) return;
    this.#notifyScheduled = true;
    queueMicrotask(() => {
      this.#notifyScheduled = false;
      for (const listener of this.#listeners) {
        try {
          listener();
        } catch {
          // A listener's bug must not break the stream.
        }
      }
    });
  }
}
