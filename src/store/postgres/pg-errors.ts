import { errorMessage, SessionstreamError } from "../../runtime/errors.js";

// Node socket errors and PostgreSQL SQLSTATEs that mean "the server cannot be
// reached or went away", as opposed to a statement that failed.
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ENOENT", // a Unix socket path that does not exist
  "57P01", // admin_shutdown (also pg_terminate_backend)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down)
  "53300", // too_many_connections
]);
const NETWORK_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /Client was closed and is not queryable/i,
  /Connection ended unexpectedly/i,
  /Query read timeout/i,
];

/** True when `err` means PostgreSQL is unreachable or the connection was lost. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && (NETWORK_CODES.has(code) || code.startsWith("08"))) return true;
  if (err instanceof AggregateError && err.errors.some(isConnectionError)) return true;
  return NETWORK_MESSAGES.some((re) => re.test(err.message));
}

/** A connection string with its password replaced by `***` (URL and keyword/value forms). */
export function redactConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = "***";
    for (const key of [...url.searchParams.keys()]) if (/pass/i.test(key)) url.searchParams.set(key, "***");
    return url.toString();
  } catch {
    return connectionString.replace(/(password\s*=\s*)('[^']*'|\S+)/gi, "$1***");
  }
}

/** Where a pool connects, for messages: host, port, database and user, never the password. */
export function describeTarget(config: { connectionString?: string | undefined; host?: string | undefined; port?: number | undefined; database?: string | undefined; user?: string | undefined }): string {
  if (config.connectionString) return redactConnectionString(config.connectionString);
  const host = config.host ?? process.env["PGHOST"] ?? "localhost";
  const port = config.port ?? (process.env["PGPORT"] ? Number(process.env["PGPORT"]) : 5432);
  const user = config.user ?? process.env["PGUSER"] ?? "";
  const database = config.database ?? process.env["PGDATABASE"] ?? user;
  return `postgres://${user ? `${encodeURIComponent(user)}@` : ""}${host}:${port}/${encodeURIComponent(database)}`;
}


/**
 * Normalises a driver failure: `store_unavailable` when PostgreSQL cannot be
 * reached (naming the redacted target), `store_failed` otherwise; the driver
 * error is the cause.
 */
export function storeError(err: unknown, what: string, target: string): SessionstreamError {
  if (err instanceof SessionstreamError) return err;
  if (isConnectionError(err)) {
    return new SessionstreamError("store_unavailable", `PostgreSQL at ${target} is unreachable (${what}): ${errorMessage(err)}`, { cause: err });
  }
  return new SessionstreamError("store_failed", `PostgreSQL ${what} failed: ${errorMessage(err)}`, { cause: err });
}

/** The error of a store that cannot reach PostgreSQL when it starts: names the target and the fix. */
export function unreachableAtStart(err: unknown, target: string): SessionstreamError {
  return new SessionstreamError(
    "store_unavailable",
    `cannot connect to PostgreSQL at ${target}: ${errorMessage(err)}. ` +
      "Check that the server is running and accepts TCP connections there (`pg_isready -h <host> -p <port>`), " +
      "or pass the right `connectionString` (or PGHOST/PGPORT/PGUSER/PGDATABASE).",
    { cause: err },
  );
}
