import { Command, InvalidArgumentError, Option } from "commander";
import { join, relative, resolve } from "node:path";
import { loadConfig } from "../../codegen/config.js";
import { describeBus, parseBusSpec, parseStoreSpec, STORE_SYNTAX } from "../../server/backends.js";
// The dev server and the codegen pipeline load only when the verb runs.
import type { DevServer, DevServerOptions } from "../../dev/dev-server.js";
import { failWith } from "../report.js";

interface DevFlags {
  host: string;
  port: number;
  /** sqlite, sqlite:<file>, memory or a postgres:// URL. */
  store: string;
  /** A redis:// URL. */
  bus?: string;
  app: string;
  public: string;
  watch: boolean;
  cwd: string;
  /** `--allowed-host`, repeatable. */
  allowedHost?: string[];
  /** `--no-drift-check` sets false. */
  driftCheck: boolean;
  /** `--run-grace <ms>`. */
  runGrace: number;
}

/** Starts the dev server and prints where everything is; resolves with the running server. */
export async function runDev(flags: DevFlags, extra: Partial<DevServerOptions> = {}): Promise<DevServer> {
  const { inspectorUrl, startDevServer } = await import("../../dev/dev-server.js");
  const { runGen } = await import("../../codegen/gen.js");
  const cwd = resolve(flags.cwd);
  const config = loadConfig(cwd);
  const server = await startDevServer({
    protoRoots: config.protoRoots.map((root) => relative(cwd, root) || "."),
    regenerate: async () => {
      const result = await runGen({ projectDir: cwd });
      if (result.exitCode !== 0) throw new Error(result.errors.join("\n") || "gen failed");
      const written = result.files.filter((f) => f.status !== "unchanged");
      for (const f of written) console.log(`  gen: ${f.status} ${f.path}`);
      for (const note of result.notes) console.log(`  gen: warning: ${note}`);
      return written.map((f) => join(relative(cwd, config.projectDir), f.path));
    },
    cwd: flags.cwd,
    appPath: flags.app,
    host: flags.host,
    port: flags.port,
    store: parseStoreSpec(flags.store, cwd, ".sessionstream/dev.sqlite"),
    ...(flags.bus ? { bus: parseBusSpec(flags.bus) } : {}),
    publicDir: flags.public,
    watch: flags.watch,
    driftCheck: flags.driftCheck !== false,
    runGraceMs: flags.runGrace,
    ...(flags.allowedHost && flags.allowedHost.length > 0 ? { allowedHosts: flags.allowedHost } : {}),
    ...extra,
  });
  const status = server.status();
  console.log(
    [
      "",
      `  app        ${server.url}/`,
      `  inspector  ${inspectorUrl(server.url)}`,
      `  websocket  ${server.url.replace(/^http/, "ws")}/ws`,
      `  commands   POST ${server.url}/api/sessions/:sessionId/commands/:name`,
      `  store      ${server.storePath}`,
      ...(flags.bus ? [`  bus        ${describeBus(parseBusSpec(flags.bus))}`] : []),
      `  registered ${status.commands.length} commands: ${status.commands.join(", ") || "-"}`,
      `             ${status.events.length} events: ${status.events.join(", ") || "-"}`,
      flags.watch ? "  watching   protos and src/ (Ctrl-C to stop)" : "  (Ctrl-C to stop)",
      "",
    ].join("\n"),
  );
  return server;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("expected a port number 0-65535");
  return n;
}

function graceMs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError("expected milliseconds, an integer >= 0");
  return n;
}

export function devCommand(): Command {
  return new Command("dev")
    .description("Run the app: websocket /ws, command ingress /api, the app's public/ page and an inspector, reloading on change.")
    .option("--host <host>", "interface to bind (use 0.0.0.0 to expose on the network)", "127.0.0.1")
    .option("--port <port>", "port (0 picks a free one)", port, 4400)
    .addOption(new Option("--store <store>", STORE_SYNTAX).env("SESSIONSTREAM_STORE").default("sqlite", "sqlite at .sessionstream/dev.sqlite"))
    .addOption(new Option("--bus <url>", "redis://host:6379: share sessions with other nodes (sessionstream start) on one postgres:// store").env("SESSIONSTREAM_BUS"))
    .option("--app <file>", "the app module exporting createApp({ store, bus })", "src/app.ts")
    .option("--public <dir>", "static page folder served at /", "public")
    .option("--no-watch", "do not watch protos and sources")
    .option("--no-drift-check", "do not check that the page's reducer (the app's `reduce` export) matches the snapshots")
    .option("--cwd <dir>", "the app's folder", ".")
    .addOption(
      new Option("--run-grace <ms>", "how long runs in flight keep going on a reload (through the new app instance) or at Ctrl-C before they are interrupted")
        .argParser(graceMs)
        .default(10_000),
    )
    .option(
      "--allowed-host <name>",
      "also answer this Host name (repeatable; \".example.com\" with subdomains); localhost and IP addresses always work",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addHelpText(
      "after",
      `
Examples:
  $ npx sessionstream dev
  $ npx sessionstream dev --port 0 --store memory`,
    )
    .action(async function devAction(flags: DevFlags) {
      try {
        parseStoreSpec(flags.store, flags.cwd, ".sessionstream/dev.sqlite");
        if (flags.bus) parseBusSpec(flags.bus);
      } catch (err) {
        return failWith(err, 2);
      }
      // Detached work of a reloaded app may reject after its hub closed: log it, never crash dev.
      process.on("unhandledRejection", function logRejection(reason) {
        console.error(`[sessionstream dev] unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}`);
      });
      let server: DevServer;
      try {
        server = await runDev(flags);
      } catch (err) {
        return failWith(err, 1);
      }
      await new Promise<void>((stop) => {
        const shutdown = () => {
          const runs = server.runsInFlight();
          console.log(
            runs > 0
              ? `\nstopping: ${runs} run(s) in flight get up to ${flags.runGrace} ms to finish (Ctrl-C again to quit now; the next start marks them interrupted)`
              : "\nstopping: closing sockets and the store",
          );
          stop();
        };
        process.once("SIGINT", shutdown);
        process.once("SIGTERM", shutdown);
      });
      await server.close();
    });
}
