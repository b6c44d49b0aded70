/**
 * Stable error codes. The same strings appear in thrown errors, wire `error`
 * frames, HTTP error bodies and the README, so clients can branch on them.
 */
export type SessionstreamErrorCode =
  | "invalid_argument"
  | "invalid_session_id"
  | "empty_name"
  | "duplicate_name"
  | "top_level_struct"
  | "unknown_command"
  | "unknown_event"
  | "unknown_ui_event"
  | "unknown_timeline_kind"
  | "payload_type_mismatch"
  | "handler_already_registered"
  | "not_implemented"
  | "projection_failed"
  | "store_failed"
  | "store_unavailable"
  | "bus_unavailable"
  | "capability_missing"
  | "invalid_json"
  | "closed"
  | "internal"
  // Runs (DESIGN section 9); see src/runtime/runs.ts.
  | "unknown_run_kind"
  | "run_over"
  // Transport (websocket frames, HTTP ingress); see src/transport.
  | "bad_client_frame"
  | "protocol_error"
  | "forbidden"
  | "frame_too_large"
  | "too_many_subscriptions"
  | "hydration_buffer_overflow"
  | "slow_consumer"
  | "events_missed"
  | "snapshot_too_large"
  | "heartbeat_timeout"
  | "payload_too_large"
  | "unsupported_media_type"
  | "method_not_allowed"
  | "snapshot_failed"
  | "unavailable";

// A registry-wide brand, so errors thrown by another copy of this module
// (the user's app loaded by `dev` in a fresh module namespace) still pass
// `instanceof SessionstreamError` and keep their codes.
const BRAND = Symbol.for("sessionstream.SessionstreamError");

/** The one error class of the runtime; `code` is stable, `message` is for people. */
export class SessionstreamError extends Error {
  override readonly name = "SessionstreamError";
  readonly code: SessionstreamErrorCode;

  constructor(code: SessionstreamErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep the ordinary prototype check.
    if (this !== SessionstreamError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** Normalises anything thrown into a `SessionstreamError` (code `internal` unless it already is one). */
  static from(reason: unknown, code: SessionstreamErrorCode = "internal"): SessionstreamError {
    if (reason instanceof SessionstreamError) return reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    return new SessionstreamError(code, message, { cause: reason });
  }
}

/** Where a runtime error happened, for {@link RuntimeErrorReport}. */
export type RuntimeErrorKind =
  | "handler"
  | "ui_projection"
  | "timeline_projection"
  | "store"
  | "fanout"
  | "observer"
  | "run";

/** What the hub's `onError` observer receives for every runtime error. */
export interface RuntimeErrorReport {
  readonly kind: RuntimeErrorKind;
  readonly sessionId: string;
  /** Ordinal of the event being applied, when there is one. */
  readonly ordinal?: bigint;
  /** Logical name of the event being applied, when there is one. */
  readonly eventName?: string;
  /** Logical name of the command being handled, when there is one. */
  readonly commandName?: string;
  readonly error: SessionstreamError;
}

/**
 * The message of anything thrown, for error texts: every error of an
 * `AggregateError` (a connection refused on IPv4 and IPv6), or a driver's
 * `code` when its message is empty.
 */
export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(errorMessage).join("; ");
  return err instanceof Error ? err.message || String((err as { code?: unknown }).code ?? err.name) : String(err);
}
