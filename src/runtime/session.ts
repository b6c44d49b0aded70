import { SessionstreamError } from "./errors.js";

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
}

/** Creates sessions on first reference, running the metadata factory once per session. */
export class SessionTable<M> {
  readonly #sessions = new Map<string, Promise<Session<M>>>();
  readonly #ready = new Map<string, Session<M>>();
  readonly #factory: SessionMetadataFactory<M> | undefined;

  constructor(factory?: SessionMetadataFactory<M>) {
    this.#factory = factory;
  }

  get(sessionId: string): Promise<Session<M>> {
    let session = this.#sessions.get(sessionId);
    if (!session) {
      session = this.#create(sessionId);
      this.#sessions.set(sessionId, session);
      // A failed factory must not poison the session forever: the next reference retries.
      session.catch(() => this.#sessions.delete(sessionId));
    }
    return session;
  }

  /** The session if it was already created (no await on the hot path). */
  peek(sessionId: string): Session<M> | undefined {
    return this.#ready.get(sessionId);
  }

  /** Ids of the sessions referenced in this process. */
  ids(): string[] {
    return [...this.#sessions.keys()];
  }

  async #create(sessionId: string): Promise<Session<M>> {
    const metadata = (this.#factory ? await this.#factory(sessionId) : undefined) as M;
    const session = { id: sessionId, metadata, createdAt: Date.now() };
    this.#ready.set(sessionId, session);
    return session;
  }
}
