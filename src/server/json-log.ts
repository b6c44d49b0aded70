// Structured logs for `sessionstream start`: one JSON object per line,
// `{"time":"…","level":"info","msg":"…", …fields}`, for log collectors.
import type { RuntimeErrorReport } from "../runtime/errors.js";
import { errorDetail } from "../transport/internal-error.js";
import type { IngressErrorReport, TransportRecord } from "../transport/index.js";

/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Extra keys of a log line (bigints become strings, errors their message, code and stack). */
export type LogFields = Readonly<Record<string, unknown>>;

/** Writes log lines. */
export interface Logger {
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Lines below this level are dropped. Default `"info"`. */
  readonly level?: LogLevel;
  /** Where each line goes (without its newline). Default: `process.stdout`. */
  readonly write?: (line: string) => void;
  /** Clock. Default `Date.now`. */
  readonly now?: () => number;
}

/** Whether `value` names a log level. */
export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVELS, value);
}

/**
 * A logger writing one JSON object per line: `time` (ISO 8601), `level`,
 * `msg`, then the fields (a field never overwrites those three).
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const min = LEVELS[options.level ?? "info"];
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const now = options.now ?? Date.now;
  const log = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (LEVELS[level] < min) return;
    const line: Record<string, unknown> = { time: new Date(now()).toISOString(), level, msg };
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined && !(key in line)) line[key] = plain(value);
    }
    write(JSON.stringify(line));
  };
  return {
    log,
    debug: (msg, fields) => log("debug", msg, fields),
    info: (msg, fields) => log("info", msg, fields),
    warn: (msg, fields) => log("warn", msg, fields),
    error: (msg, fields) => log("error", msg, fields),
  };
}

/** A JSON-safe copy: bigints as strings, errors as `{ message, code, stack }`. */
function plain(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { message: value.message, ...codeOf(value), stack: errorDetail(value) };
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function codeOf(err: Error): { code?: string } {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? { code } : {};
}

/** The hub's `onError` as log lines: level error, keyed by the error's stable `code`. */
export function logRuntimeError(logger: Logger): (report: RuntimeErrorReport) => void {
  return function onRuntimeError(report) {
    logger.error(report.error.message, {
      code: report.error.code,
      kind: report.kind,
      sessionId: report.sessionId,
      ordinal: report.ordinal,
      eventName: report.eventName,
      commandName: report.commandName,
      detail: report.error.cause !== undefined ? errorDetail(report.error.cause) : undefined,
    });
  };
}

/** The ingress's internal errors as log lines, under the `errorId` the client got. */
export function logIngressError(logger: Logger): (report: IngressErrorReport) => void {
  return function onIngressError(report) {
    logger.error("internal error in command ingress", {
      code: "internal",
      errorId: report.errorId,
      method: report.method,
      path: report.path,
      sessionId: report.sessionId,
      commandName: report.commandName,
      detail: errorDetail(report.error),
    });
  };
}

/** Internal errors of the app's own routes (and of built-in endpoints) as `error` lines with the `errorId` the client got. */
export function logRouteError(logger: Logger): (report: IngressErrorReport) => void {
  return function onRouteError(report) {
    logger.error("internal error in app route", {
      code: "internal",
      errorId: report.errorId,
      method: report.method,
      path: report.path,
      detail: errorDetail(report.error),
    });
  };
}

/** Websocket records as log lines: errors and refusals at warn (internal ones at error), the rest at debug. */
export function logTransportRecord(logger: Logger): (record: TransportRecord) => void {
  return function onTransportRecord(record) {
    const { type, message, ...fields } = record;
    const level: LogLevel = record.errorId ? "error" : type === "error" || type === "refused" ? "warn" : "debug";
    logger.log(level, message ?? `websocket ${type}`, { event: `ws_${type}`, ...fields });
  };
}
