import { Command, InvalidArgumentError, Option } from "commander";
import { resolve } from "node:path";
import { SessionstreamError } from "../../runtime/errors.js";
import { parseBusSpec, parseStoreSpec, STORE_SYNTAX } from "../../server/backends.js";
import { createJsonLogger, isLogLevel, type LogLevel, type Logger } from "../../server/json-log.js";
// The server (and with it tsx, the stores and the transport) loads only when the verb runs.
import type { ShutdownResult, StartedServer } from "../../server/start-server.js";

/** The flags of `sessionstream start` (each also read from its environment variable). */
export interface StartFlags {
  readonly host: string;
  readonly port: number;
  readonly store: string;
  readonly bus?: string;
  readonly inspector: boolean;
  readonly app: string;
  readonly public: string;
  readonly cwd: string;
  readonly allowedHost?: readonly string[];
  readonly allowedOrigin?: readonly string[];
  readonly shutdownTimeout: number;
  readonly logLevel: LogLevel;
}

/** Where `--store sqlite` keeps its file, relative to the app's folder. */
export const START_SQLITE_PATH = ".sessionstream/app.sqlite";

/**
 * Opens the store and bus, loads the app and serves it (see `startServer`).
 * Rejects with a `SessionstreamError` naming what is wrong and the fix.
 */
export async function runStart(flags: StartFlags, logger: Logger): Promise<StartedServer> {
  const cwd = resolve(flags.cwd);
  const store = parseStoreSpec(flags.store, cwd, START_SQLITE_PATH);
  const bus = flags.bus ? parseBusSpec(flags.bus) : undefined;
  if (store.kind === "memory") logger.warn("memory store: every session is lost when this process stops; use sqlite (one node) or postgres:// (several)");
  if (bus && store.kind !== "postgres") {
    logger.warn(`--bus with a ${store.kind} store: each node keeps its own state; several nodes need one shared postgres:// store`);
  }
  const { startServer } = await import("../../server/start-server.js");
  return startServer({
    cwd,
    appPath: flags.app,
    publicDir: flags.public,
    host: flags.host,
    port: flags.port,
    store,
    ...(bus ? { bus } : {}),
    inspector: flags.inspector,
    ...(flags.allowedHost ? { allowedHosts: flags.allowedHost } : {}),
    ...(flags.allowedOrigin ? { allowedOrigins: flags.allowedOrigin } : {}),
    shutdownTimeoutMs: flags.shutdownTimeout,
    logger,
  });
}

/** Waits for SIGTERM or SIGINT, then shuts `server` down gracefully. A second signal gets Node's default (immediate exit). */
export async function untilSignal(server: StartedServer): Promise<ShutdownResult> {
  const signal = await new Promise<NodeJS.Signals>((received) => {
    const onSignal = (s: NodeJS.Signals) => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      received(s);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  return server.close(signal);
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("expected a port number 0-65535");
  return n;
}

function milliseconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1) throw new InvalidArgumentError("expected milliseconds, a positive integer");
  return n;
}

function logLevel(value: string): LogLevel {
  if (!isLogLevel(value)) throw new InvalidArgumentError("expected debug, info, warn or error");
  return value;
}

/** A repeatable flag whose environment variable holds a comma-separated list. */
function list(value: string, previous: readonly string[] = []): string[] {
  return [...previous, ...value.split(",").map((v) => v.trim()).filter((v) => v !== "")];
}

export function startCommand(): Command {
  return new Command("start")
    .description("Run the app in production: the page, /ws, /api, /healthz and /readyz on one port; JSON logs; graceful shutdown on SIGTERM.")
    .addOption(new Option("--host <host>", "interface to bind (127.0.0.1 for a proxy on the same machine)").env("SESSIONSTREAM_HOST").default("0.0.0.0"))
    .addOption(new Option("--port <port>", "port (0 picks a free one)").env("PORT").argParser(port).default(8080))
    .addOption(new Option("--store <store>", STORE_SYNTAX).env("SESSIONSTREAM_STORE").default("sqlite", `sqlite at ${START_SQLITE_PATH}`))
    .addOption(new Option("--bus <url>", "redis://[user:pass@]host:6379: share sessions across nodes (with a postgres:// store)").env("SESSIONSTREAM_BUS"))
    // No environment variable: the inspector shows every session, so it is switched on only where it is written.
    .option("--inspector", "also serve the inspector at /__sessionstream/inspector/ (it shows every session: protect it)", false)
    .addOption(
      new Option("--allowed-host <name>", "also answer this Host name (repeatable, or comma-separated in the env var)")
        .env("SESSIONSTREAM_ALLOWED_HOSTS")
        .argParser(list),
    )
    .addOption(
      new Option("--allowed-origin <origin>", "a cross-origin page allowed on /ws and /api, e.g. https://app.example (repeatable)")
        .env("SESSIONSTREAM_ALLOWED_ORIGINS")
        .argParser(list),
    )
    .addOption(new Option("--shutdown-timeout <ms>", "longest graceful shutdown").env("SESSIONSTREAM_SHUTDOWN_TIMEOUT_MS").argParser(milliseconds).default(10_000))
    .addOption(new Option("--log-level <level>", "debug, info, warn or error").env("SESSIONSTREAM_LOG_LEVEL").argParser(logLevel).default("info"))
    .option("--app <file>", "the app module exporting createApp({ store, bus })", "src/app.ts")
    .option("--public <dir>", "static page folder served at /", "public")
    .option("--cwd <dir>", "the app's folder", ".")
    .addHelpText(
      "after",
      `
Environment: PORT, SESSIONSTREAM_STORE, SESSIONSTREAM_BUS, SESSIONSTREAM_HOST,
SESSIONSTREAM_ALLOWED_HOSTS, SESSIONSTREAM_ALLOWED_ORIGINS,
SESSIONSTREAM_SHUTDOWN_TIMEOUT_MS, SESSIONSTREAM_LOG_LEVEL (a flag wins over its variable).

Examples:
  $ npx sessionstream start                                   # one node, SQLite, port 8080
  $ PORT=3000 npx sessionstream start --store memory
  $ SESSIONSTREAM_STORE=postgres://app@db:5432/app SESSIONSTREAM_BUS=redis://cache:6379 npx sessionstream start`,
    )
    .action(async function startAction(flags: StartFlags) {
      const logger = createJsonLogger({ level: flags.logLevel });
      // Detached work (a streaming handler) may reject after shutdown closed its hub: log it, never crash.
      process.on("unhandledRejection", function logRejection(reason) {
        logger.error(`unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}`, { code: SessionstreamError.from(reason).code, error: reason });
      });
      process.on("uncaughtExceptionMonitor", function logCrash(err) {
        logger.error(`uncaught exception: ${err.message}`, { code: SessionstreamError.from(err).code, error: err });
      });
      let server: StartedServer;
      try {
        server = await runStart(flags, logger);
      } catch (err) {
        const e = SessionstreamError.from(err);
        logger.error(e.message, { code: e.code });
        process.exitCode = 1;
        return;
      }
      const result = await untilSignal(server);
      process.exitCode = result.clean ? 0 : 1;
    });
}
