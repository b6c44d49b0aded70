import { errorMessage, SessionstreamError } from "../../runtime/errors.js";

/** A Redis URL with its password replaced by `***`. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}


/**
 * Normalises a Redis failure: an error reply from the server (`ReplyError`)
 * is `internal`; anything else (no connection, connection lost, offline)
 * is `bus_unavailable` naming the redacted URL, the driver error as the cause.
 */
export function busError(err: unknown, what: string, target: string): SessionstreamError {
  if (err instanceof SessionstreamError) return err;
  if (err instanceof Error && err.name === "ReplyError") {
    return new SessionstreamError("internal", `Redis ${what} failed at ${target}: ${errorMessage(err)}`, { cause: err });
  }
  return new SessionstreamError("bus_unavailable", `Redis at ${target} is unreachable (${what}): ${errorMessage(err)}`, { cause: err });
}

/** The error of a bus that cannot reach Redis when it starts: names the URL and the fix. */
export function unreachableAtStart(err: unknown, target: string): SessionstreamError {
  return new SessionstreamError(
    "bus_unavailable",
    `cannot connect to Redis at ${target}: ${errorMessage(err)}. ` +
      "Check that Redis is running and reachable there (`redis-cli -h <host> -p <port> ping`), " +
      "or pass the right URL (`createRedisEventBus({ url })`, `--bus redis://host:port`).",
    { cause: err },
  );
}
