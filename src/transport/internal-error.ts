import { randomUUID } from "node:crypto";
import { SessionstreamError, type SessionstreamErrorCode } from "../runtime/errors.js";

/** The message clients get in place of an internal error's own. */
export const INTERNAL_ERROR_MESSAGE = "internal error";

/** What a client may see of an error, and the id that keys its detail in the server's log. */
export interface PublicError {
  /** Safe to send: a `SessionstreamError` as thrown, or code `internal` (or the caller's code) with a generic message. */
  readonly error: SessionstreamError;
  /** Set when the error was internal: the same id goes to the client and, with the detail, to the log. */
  readonly errorId?: string;
}

/**
 * Separates what a client may see from what only the server's log may see.
 * A `SessionstreamError` keeps its code and message (they are written for
 * clients), except that codes `internal`, `store_failed` and
 * `projection_failed` keep only their code (their messages embed a driver's
 * or a projection's own message). Any
 * other throw (a plain `Error("db password=...")` from a handler, a driver's
 * `TypeError`) is internal: the client gets `code` (default `internal`), the
 * message "internal error" and an `errorId`; the caller reports the original
 * error with that id.
 */
export function toPublicError(err: unknown, code: SessionstreamErrorCode = "internal"): PublicError {
  if (err instanceof SessionstreamError && !DETAIL_CODES.has(err.code)) return { error: err };
  const errorId = randomUUID();
  const publicCode = err instanceof SessionstreamError ? err.code : code;
  return { error: new SessionstreamError(publicCode, INTERNAL_ERROR_MESSAGE, { cause: err }), errorId };
}

/**
 * Codes whose messages carry another component's own message (a driver's, a
 * projection's, a bug's): the code is kept, the message is not sent.
 */
const DETAIL_CODES: ReadonlySet<SessionstreamErrorCode> = new Set([
  "internal",
  "store_failed",
  "projection_failed",
  // Connection errors name hosts, users and databases.
  "store_unavailable",
  "bus_unavailable",
]);

/** The detail of an internal error for a log line: its stack (or message), and the cause chain. */
export function errorDetail(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join("\ncaused by: ");
}
