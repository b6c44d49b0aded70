import type { Message } from "@bufbuild/protobuf";

/** A durable timeline entity as stored and sent in snapshots. */
export interface TimelineEntity<P extends Message = Message> {
  readonly kind: string;
  readonly id: string;
  /** Ordinal of the event that first created this entity; kept across updates. */
  readonly createdOrdinal: bigint;
  /** Ordinal of the event that last touched this entity. */
  readonly lastEventOrdinal: bigint;
  /** A removed entity. Full snapshots leave tombstones out; delta snapshots include them. */
  readonly tombstone: boolean;
  readonly payload: P;
}

/** A snapshot of a session's durable timeline. */
export interface Snapshot {
  readonly sessionId: string;
  /** The highest event ordinal this snapshot reflects (0n for a new session). */
  readonly snapshotOrdinal: bigint;
  /** Live entities ordered by `createdOrdinal`, then kind and id. */
  readonly entities: readonly TimelineEntity[];
  /**
   * The timeline epoch this snapshot was read in (starts at 1n; every
   * rebuild bumps it). Absent when the store does not track epochs.
   */
  readonly epoch?: bigint;
}

/** Options of `HydrationStore.snapshot`. */
export interface SnapshotOptions {
  /**
   * Return only entities touched after this ordinal, tombstones included
   * (a delta for a client that already holds the timeline up to it).
   * `0n` or absent: the full snapshot, tombstones excluded.
   */
  readonly changedAfter?: bigint;
}

/** The read-only view of a session timeline that projections receive. */
export interface TimelineView {
  readonly sessionId: string;
  /** The ordinal of the last event reflected in this view (the event being projected minus one). */
  readonly ordinal: bigint;
  /** A live (non-tombstoned) entity, or `undefined`. */
  get(kind: string, id: string): TimelineEntity | undefined;
  /** Live entities of one kind, ordered by `createdOrdinal`. */
  list(kind: string): TimelineEntity[];
}

/** The key an entity is stored under within a session. */
export function entityKey(kind: string, id: string): string {
  return `${kind}\u0000${id}`;
}

/** Orders entities by `createdOrdinal`, then kind, then id (the snapshot order). */
export function compareEntities(a: TimelineEntity, b: TimelineEntity): number {
  if (a.createdOrdinal !== b.createdOrdinal) return a.createdOrdinal < b.createdOrdinal ? -1 : 1;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * A mutable in-memory timeline of one session: the hub keeps one per active
 * session so projections read a consistent view without a store round trip,
 * and the memory store uses it as its storage.
 */
export class TimelineState implements TimelineView {
  readonly sessionId: string;
  ordinal: bigint;
  // kind -> id -> entity: no key strings built on the hot path.
  readonly #byKind = new Map<string, Map<string, TimelineEntity>>();
  // The entity last read or written, and the map of the kind last used: a
  // session's consecutive events mostly touch the same entity (each token of
  // a streamed message), which a projection reads, the hub reads again for
  // its createdOrdinal and then writes. Every write goes through #set and
  // clear(), which keep both current.
  #last: TimelineEntity | undefined;
  #kind: string | undefined;
  #ofKind: Map<string, TimelineEntity> | undefined;
  #view: TimelineView | undefined;

  constructor(sessionId: string, ordinal = 0n, entities: Iterable<TimelineEntity> = []) {
    this.sessionId = sessionId;
    this.ordinal = ordinal;
    for (const e of entities) this.#set(e);
  }

  get(kind: string, id: string): TimelineEntity | undefined {
    let e = this.#last;
    if (e === undefined || e.id !== id || e.kind !== kind) {
      e = this.#kindMap(kind)?.get(id);
      if (e !== undefined) this.#last = e;
    }
    return e && !e.tombstone ? e : undefined;
  }

  list(kind: string): TimelineEntity[] {
    const out: TimelineEntity[] = [];
    const ofKind = this.#byKind.get(kind);
    if (ofKind) for (const e of ofKind.values()) if (!e.tombstone) out.push(e);
    return out.sort(compareEntities);
  }

  /** Upserts entities (tombstones included) and advances the ordinal. */
  apply(ordinal: bigint, entities: readonly TimelineEntity[]): void {
    for (const e of entities) this.#set(e);
    if (ordinal > this.ordinal) this.ordinal = ordinal;
  }

  /** Every entity, tombstones included, in snapshot order. */
  entries(): TimelineEntity[] {
    const out: TimelineEntity[] = [];
    for (const ofKind of this.#byKind.values()) for (const e of ofKind.values()) out.push(e);
    return out.sort(compareEntities);
  }

  /** Takes over the entities and ordinal of `other` (a rebuilt timeline); views of this one stay valid. */
  replaceWith(other: TimelineState): void {
    this.clear(other.ordinal);
    for (const e of other.entries()) this.#set(e);
  }

  /** Removes every entity (timeline reset). */
  clear(ordinal = 0n): void {
    this.#byKind.clear();
    this.#last = this.#kind = this.#ofKind = undefined;
    this.ordinal = ordinal;
  }

  snapshot(options: SnapshotOptions = {}): Snapshot {
    const after = options.changedAfter ?? 0n;
    const entities: TimelineEntity[] = [];
    for (const ofKind of this.#byKind.values()) {
      for (const e of ofKind.values()) if (after > 0n ? e.lastEventOrdinal > after : !e.tombstone) entities.push(e);
    }
    return { sessionId: this.sessionId, snapshotOrdinal: this.ordinal, entities: entities.sort(compareEntities) };
  }

  #set(e: TimelineEntity): void {
    let ofKind = this.#kindMap(e.kind);
    if (!ofKind) {
      this.#byKind.set(e.kind, (ofKind = new Map()));
      this.#kind = e.kind;
      this.#ofKind = ofKind;
    }
    ofKind.set(e.id, e);
    this.#last = e;
  }

  #kindMap(kind: string): Map<string, TimelineEntity> | undefined {
    if (kind === this.#kind) return this.#ofKind;
    const ofKind = this.#byKind.get(kind);
    if (ofKind !== undefined) {
      this.#kind = kind;
      this.#ofKind = ofKind;
    }
    return ofKind;
  }

  /**
   * A read-only facade (created once), so projections cannot mutate hub
   * state. It reads the live state: `ordinal` is the state's current one.
   */
  readonlyView(): TimelineView {
    if (!this.#view) {
      const state = this;
      this.#view = Object.freeze({
        sessionId: this.sessionId,
        get ordinal() {
          return state.ordinal;
        },
        get: (kind: string, id: string) => state.get(kind, id),
        list: (kind: string) => state.list(kind),
      });
    }
    return this.#view;
  }
}
