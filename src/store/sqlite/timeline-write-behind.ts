// Timeline write-behind of the SQLite store. An LLM stream rewrites the
// same message entity on every token; writing it with every event is about
// half of the store's cost per event. The store commits each event (and the
// session cursor) before `apply` resolves, as always, but keeps the
// session's changed entities here and writes them, newest version per
// entity with the timeline cursor, at most once per `delayMs`. Snapshots of
// the store overlay what is kept here on what the file holds; after a crash
// the file's timeline cursor is behind its event log, and the hub replays
// the events after it (`TimelineCatchUpStore`).
import { entityKey, TimelineState, type Snapshot, type SnapshotOptions, type TimelineEntity } from "../../runtime/timeline.js";

interface PendingTimeline {
  /** The session's last committed event whose entities are merged here. */
  ordinal: bigint;
  /** Changes not yet handed to a writer, newest version per entity. */
  dirty: Map<string, TimelineEntity>;
  /** Changes handed to a writer and not yet committed (a transaction on the writer thread). */
  writing: Map<string, TimelineEntity> | undefined;
  /** When the oldest change not yet handed to a writer was merged; undefined when there is none. */
  since: number | undefined;
}

/** One session's kept changes, taken for writing: settle with `written` or `failed`. */
export interface TimelineWrite {
  readonly sessionId: string;
  /** The new timeline cursor. */
  readonly ordinal: bigint;
  readonly entities: TimelineEntity[];
  /** The write committed: the file now holds these changes. */
  written(): void;
  /** The write failed: the changes are kept and taken again. */
  failed(): void;
}

/** The changed entities of sessions, kept until written (see the file comment). */
export class PendingTimelines {
  readonly delayMs: number;
  // In the order the sessions became dirty (re-dirtied ones move to the
  // end), so the due ones are at the front.
  readonly #sessions = new Map<string, PendingTimeline>();
  /** Sessions whose timeline is being reset or replaced: never taken for writing meanwhile. */
  readonly #held = new Set<string>();

  constructor(delayMs: number) {
    this.delayMs = delayMs;
  }

  /** Sessions with changes not yet committed to the file. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Keeps the entity changes of a committed event (or a timeline-only change) of `sessionId`. */
  merge(sessionId: string, ordinal: bigint, entities: readonly TimelineEntity[], now: number): void {
    let pending = this.#sessions.get(sessionId);
    if (!pending) {
      pending = { ordinal, dirty: new Map(), writing: undefined, since: now };
      this.#sessions.set(sessionId, pending);
    } else if (pending.since === undefined) {
      pending.since = now;
      this.#sessions.delete(sessionId);
      this.#sessions.set(sessionId, pending);
    }
    if (ordinal > pending.ordinal) pending.ordinal = ordinal;
    for (const e of entities) pending.dirty.set(entityKey(e.kind, e.id), e);
  }

  /**
   * Takes, for writing, the sessions whose oldest change is at least
   * `delayMs` old (every session with changes when `all`), at most `max`,
   * skipping those with a write in flight.
   */
  take(now: number, max: number, all = false): TimelineWrite[] {
    const writes: TimelineWrite[] = [];
    for (const [sessionId, pending] of this.#sessions) {
      if (writes.length >= max) break;
      if (pending.since === undefined || pending.writing || this.#held.has(sessionId)) continue;
      if (!all && now - pending.since < this.delayMs) break;
      const since = pending.since;
      const writing = (pending.writing = pending.dirty);
      pending.dirty = new Map();
      pending.since = undefined;
      writes.push({
        sessionId,
        ordinal: pending.ordinal,
        entities: [...writing.values()],
        written: () => {
          pending.writing = undefined;
          if (pending.since === undefined && this.#sessions.get(sessionId) === pending) this.#sessions.delete(sessionId);
        },
        failed: () => {
          pending.writing = undefined;
          for (const [key, e] of writing) if (!pending.dirty.has(key)) pending.dirty.set(key, e);
          pending.since ??= since;
        },
      });
    }
    return writes;
  }

  /** When the next session falls due (a clock reading), or undefined when none waits. */
  nextDue(): number | undefined {
    for (const [sessionId, pending] of this.#sessions) {
      if (pending.since !== undefined && !pending.writing && !this.#held.has(sessionId)) return pending.since + this.delayMs;
    }
    return undefined;
  }

  /**
   * Keeps a session's changes from being taken for writing until
   * `release`: its timeline is about to be reset or replaced, and a write
   * taken meanwhile could land after the replacement.
   */
  hold(sessionId: string): void {
    this.#held.add(sessionId);
  }

  release(sessionId: string): void {
    this.#held.delete(sessionId);
  }

  /** Forgets a session's kept changes (its timeline was reset or replaced in the file). */
  drop(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }

  /** The last merged ordinal of `sessionId` when changes of it are kept here (the file's timeline is behind them). */
  ordinal(sessionId: string): bigint | undefined {
    return this.#sessions.get(sessionId)?.ordinal;
  }

  /**
   * The snapshot of `sessionId`: `stored` (the file's entities: every live
   * one, or for a delta those changed after `changedAfter`) with the kept
   * changes on top, at the last merged ordinal. Undefined when nothing is kept.
   */
  overlay(sessionId: string, stored: readonly TimelineEntity[], options?: SnapshotOptions): Snapshot | undefined {
    const pending = this.#sessions.get(sessionId);
    if (!pending) return undefined;
    const timeline = new TimelineState(sessionId, pending.ordinal, stored);
    if (pending.writing) timeline.apply(pending.ordinal, [...pending.writing.values()]);
    timeline.apply(pending.ordinal, [...pending.dirty.values()]);
    return timeline.snapshot(options);
  }
}
