import { validateSessionId } from "../runtime/session.js";

/**
 * Session ids the transport refuses beyond the runtime's rules: `.` and `..`.
 * In a URL path they are dot-segments that `new URL()`, browsers and `fetch`
 * fold away (also spelled `%2E%2E`), so `/api/sessions/../commands/X` can
 * never reach session `..` over HTTP; the websocket refuses them too, so a
 * session is reachable over both or over neither.
 */
export function isDotSegment(sessionId: string): boolean {
  return sessionId === "." || sessionId === "..";
}

/** The runtime's session id rules (which refuse {@link isDotSegment} ids too); throws `invalid_session_id`. */
export function validateTransportSessionId(sessionId: string): void {
  validateSessionId(sessionId);
}
