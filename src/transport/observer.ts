import type { ResumeOutcome } from "./resume.js";

/** What happened, as reported to a transport observer (for logs, metrics, the dev inspector and tests). */
export type TransportRecordType =
  | "connected"
  | "refused"
  | "disconnected"
  | "subscribed"
  | "unsubscribed"
  /**
   * A live subscription resyncs: it fell behind (`slowConsumers: "resync"`,
   * code `slow_consumer`) or missed events (code `events_missed`);
   * `subscribed` follows with code `resync`.
   */
  | "resync"
  | "error";

/** One observation of the websocket server. */
export interface TransportRecord {
  readonly type: TransportRecordType;
  readonly connectionId: string;
  readonly sessionId?: string;
  /** The stable error code (also sent in the `error` frame, when one was sent). */
  readonly code?: string;
  readonly message?: string;
  /**
   * Set for an internal error (a throw that was not a `SessionstreamError`): the
   * id the client's `error` frame names; `detail` holds what the client does not
   * see (the original message and stack).
   */
  readonly errorId?: string;
  readonly detail?: string;
  /** The websocket close code, for `disconnected` and for violations that close the socket. */
  readonly closeCode?: number;
  /** How a `subscribed` subscription was satisfied (typed resume; see `ResumeOutcome`). */
  readonly resume?: ResumeOutcome;
}

/** Receives transport records; exceptions it throws are swallowed. */
export type TransportObserver = (record: TransportRecord) => void;

export function notify(observer: TransportObserver | undefined, record: TransportRecord): void {
  if (!observer) return;
  try {
    observer(record);
  } catch {
    // An observer must never break the transport.
  }
}
