import { SessionstreamError } from "./errors.js";
import { LruMap } from "./lru-map.js";

/** A session: the unit of routing, ordering, isolation and recovery. */
export interface Session<M = unknown> {
  readonly id: string;
  /** Whatever the hub's `sessionMetadata` factory returned (undefined without one). */
  readonly metadata: M;
  /** Milliseconds since the epoch when this process first referenced the session. */
  readonly createdAt: number;
}

/** Creates session metadata on first reference. */
export type SessionMetadataFactory<M = unknown> = (sessionId: string) => M | Promise<M>;

/** Default maximum session id length, in UTF-16 code units. */
export const DEFAULT_MAX_SESSION_ID_LENGTH = 256;

// Control characters would corrupt logs and URLs; nothing else is restricted.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Throws `invalid_session_id` unless `sessionId` is a non-empty string within the limit. */
export function validateSessionId(sessionId: unknown, maxLength = DEFAULT_MAX_SESSION_ID_LENGTH): asserts sessionId is string {
  if (typeof sessionId !== "string" || sessionId.length === 0) {
    throw new SessionstreamError("invalid_session_id", "session id must be a non-empty string");
  }
  if (sessionId.length > maxLength) {
    throw new SessionstreamError(
      "invalid_session_id",
      `session id of ${sessionId.length} characters exceeds maxSessionIdLength ${maxLength}`,
    );
  }
  if (CONTROL_CHARS.test(sessionId)) {
    throw new SessionstreamError("invalid_session_id", "session id must not contain control characters");
  }
  // URL dot-segments: `new URL()`, browsers and `fetch` fold them away, so they
  // could never be reached over HTTP; refused everywhere for one rule.
  if (sessionId === "." || sessionId === "..") {
    throw new SessionstreamError(
      "invalid_session_id",
      `session id "${sessionId}" is a URL dot-segment, which HTTP clients fold away; use another id (e.g. "${sessionId === "." ? "dot" : "dotdot"}")`,
    );
  }
}

/** Options of {@link SessionTable}. */
export interface SessionTableOptions<M> {
  readonly factory?: SessionMetadataFactory<M> | undefined;
  /** Sessions kept; beyond it the least recently used idle one is forgotten. Default: unbounded. */
  readonly maxSessions?: number;
  /** Whether a session has work in flight (it is never evicted then). */
  readonly busy?: (sessionId: string) => boolean;
}

/** A session in the table: its creation, and the session once created (for a synchronous hot path). */
interface SessionSlot<M> {
  readonly created: Promise<Session<M>>;
  ready: Session<M> | undefined;
}

/**
 * Creates sessions on first reference, running the metadata factory once per
 * session while it stays in the table. The table is an LRU bounded by
 * `maxSessions`, so memory does not grow with every session ever touched; a
 * forgotten session is created afresh (metadata factory included) when it is
 * referenced again.
 */
export class SessionTable<M> {
  readonly #sessions = new LruMap<string, SessionSlot<M>>();
  readonly #factory: SessionMetadataFactory<M> | undefined;
  readonly #max: number;
  readonly #busy: (sessionId: string) => boolean;

  constructor(options: SessionTableOptions<M> = {}) {
    this.#factory = options.factory;
    this.#max = Math.max(1, options.maxSessions ?? Number.POSITIVE_INFINITY);
    this.#busy = options.busy ?? (() => false);
  }

  get(sessionId: string): Promise<Session<M>> {
    const cached = this.#sessions.touch(sessionId);
    if (cached) return cached.created;
    const created = this.#create(sessionId);
    const slot: SessionSlot<M> = { created, ready: undefined };
    this.#sessions.set(sessionId, slot);
    // Marked ready in the first reaction, so callers awaiting `created` find it
    // ready; not inside #create, which without a factory ends before the slot exists.
    created.then(
      // Evicted while the factory ran: hand it out, but do not keep it.
      (ready) => {
        if (this.#sessions.get(sessionId) === slot) slot.ready = ready;
      },
      // A failed factory must not poison the session forever: the next reference retries.
      () => {
        if (this.#sessions.get(sessionId) === slot) this.#sessions.delete(sessionId);
      },
    );
    this.#evict(sessionId);
    return created;
  }

  /** The session if it was already created (no await on the hot path). */
  peek(sessionId: string): Session<M> | undefined {
    return this.#sessions.touch(sessionId)?.ready;
  }

  /** Ids of the sessions currently in the table. */
  ids(): string[] {
    return [...this.#sessions.keys()];
  }

  /** Sessions currently in the table. */
  get size(): number {
    return this.#sessions.size;
  }

  #evict(keep: string): void {
    if (this.#sessions.size <= this.#max) return;
    for (const sessionId of this.#sessions.evictionOrder()) {
      if (this.#sessions.size <= this.#max) break;
      if (sessionId === keep || this.#busy(sessionId) || !this.#sessions.get(sessionId)!.ready) continue;
      this.#sessions.delete(sessionId);
    }
  }

  async #create(sessionId: string): Promise<Session<M>> {
    const metadata = (this.#factory ? await this.#factory(sessionId) : undefined) as M;
    return { id: sessionId, metadata, createdAt: Date.now() };
  }
}
