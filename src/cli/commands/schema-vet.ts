// `sessionstream schema-vet [paths...]`: schema policy checks for TypeScript
// sources and annotated protos (rules in src/vet/rules.ts).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { formatHuman } from "../../vet/reporters/human.js";
import { toJsonReport } from "../../vet/reporters/json.js";
import { toSarif } from "../../vet/reporters/sarif.js";
// The checker (ts-morph, TypeScript) loads only when the verb runs.
import type { SchemaVetResult } from "../../vet/run-vet.js";
import { RULES } from "../../vet/rules.js";

/** Output formats of `schema-vet`. */
export type SchemaVetFormat = "human" | "json" | "sarif";

/** Parsed command line of `schema-vet`. */
export interface SchemaVetArgs {
  readonly cwd: string;
  readonly paths: readonly string[];
  /** Default "human". */
  readonly format?: string;
  /** Raw `--max-warnings` value; validated here. */
  readonly maxWarnings?: string;
  readonly project?: string;
  readonly config?: string;
  /** `--against`: a git ref, a folder of protos or a buf image to compare the protos with. */
  readonly against?: string;
  /** `--store`: a SQLite file or a postgres:// URL to check against the current protos. */
  readonly store?: string;
  /** `--all`: check every stored payload, not a sample. */
  readonly all?: boolean;
  /** `--rebuild-dry-run`: replay sessions through the app's projections in memory. */
  readonly rebuildDryRun?: boolean;
  /** `--app`: the app module for the dry run. Default `src/app.ts`. */
  readonly app?: string;
  /** `--session`: only these sessions in the dry run. */
  readonly sessions?: readonly string[];
  /** Progress lines of long work; the CLI writes them to stderr as they happen. */
  readonly onProgress?: (line: string) => void;
  /**
   * `--no-cache` sets it to false: no on-disk cache of TypeScript results.
   * Default true: `<cwd>/node_modules/.cache/sessionstream/schema-vet.json`
   * when `<cwd>/node_modules` exists (it is never created).
   */
  readonly cache?: boolean;
}

/** Folder of the on-disk cache of TypeScript results, relative to the working directory. */
export const VET_CACHE_DIR = join("node_modules", ".cache", "sessionstream");

/** The cache folder for a run in `cwd`: under its `node_modules`, or none when there is no such folder. */
export function vetCacheDir(cwd: string): string | undefined {
  return existsSync(join(cwd, "node_modules")) ? join(cwd, VET_CACHE_DIR) : undefined;
}

/** What the edge prints and the exit code it sets. */
export interface SchemaVetOutcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: 0 | 1 | 2;
  /** Absent on usage errors. */
  readonly result?: SchemaVetResult;
}

const FORMATS: readonly SchemaVetFormat[] = ["human", "json", "sarif"];

/** Runs schema-vet for a parsed command line and renders the chosen format; never prints or exits. */
export async function schemaVet(args: SchemaVetArgs): Promise<SchemaVetOutcome> {
  const format = args.format ?? "human";
  if (!FORMATS.includes(format as SchemaVetFormat)) {
    return usage(`unknown --format "${format}" (expected ${FORMATS.join(", ")})`);
  }
  let maxWarnings: number | undefined;
  if (args.maxWarnings !== undefined) {
    maxWarnings = Number(args.maxWarnings);
    if (!/^\d+$/.test(args.maxWarnings) || !Number.isSafeInteger(maxWarnings)) {
      return usage(`--max-warnings expects a non-negative integer, got "${args.maxWarnings}"`);
    }
  }
  if (args.store === undefined) {
    const storeOnly = [args.all ? "--all" : "", args.rebuildDryRun ? "--rebuild-dry-run" : "", args.app !== undefined ? "--app" : "", args.sessions?.length ? "--session" : ""].filter(Boolean);
    if (storeOnly.length) return usage(`${storeOnly.join(", ")} ${storeOnly.length === 1 ? "applies" : "apply"} only with --store <sqlite file | postgres://…>`);
  } else if (!args.rebuildDryRun && (args.app !== undefined || args.sessions?.length)) {
    return usage("--app and --session apply only with --rebuild-dry-run");
  }
  const { runSchemaVet } = await import("../../vet/run-vet.js");
  const cacheDir = args.cache === false ? undefined : vetCacheDir(args.cwd);
  const result = await runSchemaVet({
    cwd: args.cwd,
    paths: args.paths,
    ...(args.project !== undefined ? { project: args.project } : {}),
    ...(args.config !== undefined ? { config: args.config } : {}),
    ...(maxWarnings !== undefined ? { maxWarnings } : {}),
    ...(args.against !== undefined ? { against: args.against } : {}),
    ...(args.store !== undefined
      ? {
          store: {
            url: args.store,
            ...(args.all ? { all: true } : {}),
            ...(args.rebuildDryRun ? { rebuildDryRun: true } : {}),
            ...(args.app !== undefined ? { app: args.app } : {}),
            ...(args.sessions?.length ? { sessions: args.sessions } : {}),
          },
        }
      : {}),
    ...(args.onProgress ? { onProgress: args.onProgress } : {}),
    ...(cacheDir !== undefined ? { cacheDir } : {}),
  });
  const version = packageVersion();
  const stdout =
    format === "json"
      ? JSON.stringify(toJsonReport(result, version), null, 2) + "\n"
      : format === "sarif"
        ? JSON.stringify(toSarif(result, version), null, 2) + "\n"
        : formatHuman(result);
  return { stdout, stderr: "", exitCode: result.exitCode, result };
}

/** The commander verb; the action prints the outcome and sets `process.exitCode`. */
export function schemaVetCommand(): Command {
  return new Command("schema-vet")
    .description("Check schema policy in TypeScript sources and annotated .proto files (see --help for rules).")
    .argument("[paths...]", "files or folders (.ts and .proto); default: ./tsconfig.json and the proto roots")
    .addOption(new Option("--format <format>", "output format").choices([...FORMATS]).default("human"))
    .option("--max-warnings <n>", "exit 1 when there are more than n warnings")
    .option("-p, --project <tsconfig>", "tsconfig.json to use when no paths are given", undefined)
    .option("--config <file>", "config file (default ./sessionstream.config.json)")
    .option("--against <ref>", "compare the protos with a baseline: a git ref (origin/main, HEAD~1), a folder of protos or a buf image")
    .option("--store <store>", "check a store's rows read-only against the protos: a SQLite file or a postgres://…[?schema=name] URL")
    .option("--all", "with --store: check every stored payload (default: a sample of 200 per name)")
    .option("--rebuild-dry-run", "with --store: replay sessions through the app's current projections in memory and report entities that would change")
    .option("--app <file>", "with --rebuild-dry-run: the app module exporting createApp({ store })", undefined)
    .option("--session <id...>", "with --rebuild-dry-run: only these sessions")
    .option("--no-cache", "do not read or write the cache of TypeScript results (node_modules/.cache/sessionstream/)")
    .addHelpText("after", helpText())
    // Usage errors exit 2 (commander's default is 1); the entry point prints the message.
    .configureOutput({ outputError: () => {} })
    .exitOverride((err) => {
      if (err.exitCode === 0) return;
      throw new CommanderError(2, err.code, err.message);
    })
    .action(async (paths: string[], opts: CliOptions) => {
      const outcome = await schemaVet({
        cwd: process.cwd(),
        paths,
        format: opts.format,
        ...(opts.maxWarnings !== undefined ? { maxWarnings: opts.maxWarnings } : {}),
        ...(opts.project !== undefined ? { project: opts.project } : {}),
        ...(opts.config !== undefined ? { config: opts.config } : {}),
        ...(opts.against !== undefined ? { against: opts.against } : {}),
        ...(opts.store !== undefined ? { store: opts.store } : {}),
        ...(opts.all ? { all: true } : {}),
        ...(opts.rebuildDryRun ? { rebuildDryRun: true } : {}),
        ...(opts.app !== undefined ? { app: opts.app } : {}),
        ...(opts.session?.length ? { sessions: opts.session } : {}),
        ...(opts.cache === false ? { cache: false } : {}),
        // Progress goes to stderr, so `--format json > report.json` stays clean.
        onProgress: (line: string) => process.stderr.write(`${line}\n`),
      });
      if (outcome.stdout) process.stdout.write(outcome.stdout);
      if (outcome.stderr) process.stderr.write(outcome.stderr);
      process.exitCode = outcome.exitCode;
    });
}

interface CliOptions {
  format: string;
  maxWarnings?: string;
  project?: string;
  config?: string;
  against?: string;
  store?: string;
  all?: boolean;
  rebuildDryRun?: boolean;
  app?: string;
  session?: string[];
  cache: boolean;
}

function usage(message: string): SchemaVetOutcome {
  return { stdout: "", stderr: `schema-vet: ${message}\n`, exitCode: 2 };
}

function helpText(): string {
  const width = Math.max(...RULES.map((r) => r.id.length));
  const rules = RULES.map((r) => `  ${r.id.padEnd(width)}  ${r.defaultSeverity.padEnd(7)}  ${r.description}`).join("\n");
  return `
Rules (configure in sessionstream.config.json: {"schemaVet": {"rules": {"live-only-ui-event": "off"}}}):
${rules}

Suppress one line: put "// sessionstream-vet-disable-next-line <rule-id>" on the line above (TypeScript and .proto).

Schema evolution (--against): persisted messages (events, timeline entities) are stored as protobuf
binary, so binary-wire breaks, renamed types and removed names are errors; UI events and commands
speak JSON, so JSON-wire breaks are warnings. Retire a name with retired_names / retired_kinds.

Store checks (--store): the store is opened read-only; every stored event name / entity kind must be
registered or retired, every stored type name must resolve, and a sample of payloads (every one with
--all) must decode with the current protos; findings name the first failing rows (session, ordinal).

Cache: TypeScript results are cached in node_modules/.cache/sessionstream/schema-vet.json (when ./node_modules exists), keyed by
the content hashes of the candidate files and of everything they import, the compiler options and
the tool version; an unchanged project is not type-checked again. --no-cache ignores it.

Exit codes: 0 clean, 1 errors (or more warnings than --max-warnings), 2 usage error, unreadable tsconfig/config or files that do not parse.

Examples:
  $ sessionstream schema-vet
  $ sessionstream schema-vet src proto --format sarif > schema-vet.sarif
  $ sessionstream schema-vet --max-warnings 0 --format json
  $ sessionstream schema-vet --against origin/main
  $ sessionstream schema-vet --against ../last-release/proto
  $ sessionstream schema-vet --store .sessionstream/app.sqlite --all
  $ sessionstream schema-vet --store "postgres://app@db:5432/app?schema=chat" --rebuild-dry-run
`;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
