import { readFileSync } from "node:fs";
import { CONFIG_FILE_NAME, loadVetConfig, effectiveSeverity } from "./config.js";
import type { Finding, VetDiagnostic } from "./diagnostic.js";
import { vetProtos } from "./proto/vet-protos.js";
import { resolveTargets } from "./resolve-targets.js";
import type { StoreReport } from "./store/check-store.js";
import { findRule } from "./rules.js";
import { isSuppressed, parseSuppressions, type SuppressionMap } from "./suppressions.js";
import { vetTypeScript } from "./ts/vet-typescript.js";

/** Options of {@link runSchemaVet}. */
export interface SchemaVetOptions {
  /** Working directory: default tsconfig, config file and proto root are looked up here; output paths are relative to it. */
  readonly cwd: string;
  /** Files or folders (.ts and .proto). Default: the project (tsconfig.json + proto roots). */
  readonly paths?: readonly string[];
  /** tsconfig.json for project mode. Default `<cwd>/tsconfig.json`. */
  readonly project?: string;
  /** Config file. Default `<cwd>/sessionstream.config.json` (optional). */
  readonly config?: string;
  /** More warnings than this make the exit code 1. Default: no limit. */
  readonly maxWarnings?: number;
  /**
   * Compare the protos with a baseline (a git ref, a folder of protos or a
   * buf image) and run the evolution rules. Default: no comparison.
   */
  readonly against?: string;
  /** Check a real store's contents against the current protos. Default: no store check. */
  readonly store?: StoreVetOptions;
  /** Progress lines for long work (the CLI writes them to stderr). */
  readonly onProgress?: (line: string) => void;
  /**
   * Folder of the on-disk cache of TypeScript results (keyed by content
   * hashes; see `src/vet/ts/vet-cache.ts`). Default: no cache. The CLI uses
   * `<cwd>/node_modules/.cache/sessionstream` unless `--no-cache`.
   */
  readonly cacheDir?: string;
}

/** `schema-vet --store`. */
export interface StoreVetOptions {
  /** A SQLite file (`path` or `sqlite:path`) or a `postgres://` URL (`?schema=` names the schema). */
  readonly url: string;
  /** Check every stored payload, not a sample. Default false. */
  readonly all?: boolean;
  /** Payloads checked per (name, type name) without `all`. Default 200. */
  readonly sample?: number;
  /** Replay sessions through the app's current projections in memory and report entities that would change. Default false. */
  readonly rebuildDryRun?: boolean;
  /** The app module for the dry run, relative to `cwd`. Default `src/app.ts`. */
  readonly app?: string;
  /** Only these sessions in the dry run. Default: all. */
  readonly sessions?: readonly string[];
}

/** Everything a reporter needs. */
export interface SchemaVetResult {
  readonly cwd: string;
  /** Sorted by file, line, column. */
  readonly diagnostics: readonly VetDiagnostic[];
  readonly errorCount: number;
  readonly warningCount: number;
  /** Findings silenced by a `sessionstream-vet-disable-next-line` comment. */
  readonly suppressedCount: number;
  /** `typescriptFromCache`: of the type-resolved files, those whose results came from the cache. */
  readonly files: { readonly typescript: number; readonly typescriptResolved: number; readonly typescriptFromCache?: number; readonly proto: number };
  /** The `maxWarnings` limit in force, if any. */
  readonly maxWarnings?: number;
  /** 0 clean, 1 errors or too many warnings, 2 usage/config/parse failures. */
  readonly exitCode: 0 | 1 | 2;
  /** With `store`: what the store holds, per name. */
  readonly store?: StoreReport;
}

/**
 * Runs schema-vet: the TypeScript rules, the proto rules, project config and
 * suppression comments. Never throws for bad input: unreadable files become
 * fatal diagnostics (exit code 2) and everything else is still checked.
 */
export async function runSchemaVet(options: SchemaVetOptions): Promise<SchemaVetResult> {
  const { cwd } = options;
  const { config, problems } = loadVetConfig(cwd, options.config);
  const findings: Finding[] = problems.map((message) => ({ ruleId: "config-error", file: config.file ?? cwd, message }));
  const targets = resolveTargets({
    cwd,
    paths: options.paths ?? [],
    ...(options.project !== undefined ? { project: options.project } : {}),
    ...(config.protoRoots ? { protoRoots: config.protoRoots } : {}),
  });
  findings.push(...targets.problems);

  // The TypeScript pass is synchronous CPU work; start the proto compile (a child process) first so they overlap.
  const protoPass = targets.protos ? vetProtos(targets.protos) : Promise.resolve({ findings: [], filesChecked: 0 });
  const tsPass = targets.typescript
    ? vetTypeScript(targets.typescript, options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {})
    : { findings: [], filesScanned: 0, filesResolved: 0, filesFromCache: 0 };
  const protoResult = await protoPass;
  findings.push(...tsPass.findings, ...protoResult.findings);
  if (options.against !== undefined) findings.push(...(await againstPass(options, targets.protos?.roots ?? [], protoResult)));
  let storeReport: StoreReport | undefined;
  if (options.store) {
    const { storePass } = await import("./store/store-pass.js");
    const pass = await storePass(options.cwd, options.store, targets.protos?.roots ?? [], protoResult, options.onProgress);
    findings.push(...pass.findings);
    storeReport = pass.report;
  }

  const diagnostics: VetDiagnostic[] = [];
  let suppressedCount = 0;
  const suppressions = new Map<string, SuppressionMap>();
  for (const f of findings) {
    const info = findRule(f.ruleId);
    const fatal = info?.fatal === true;
    const severity = fatal ? "error" : effectiveSeverity(config, f.ruleId, info?.defaultSeverity ?? "error");
    if (severity === "off") continue;
    if (!fatal && f.range) {
      const lines = [f.range.line, ...(f.suppressibleAt ?? [])];
      if (isSuppressed(suppressionsOf(f.file, suppressions), f.ruleId, lines)) {
        suppressedCount++;
        continue;
      }
    }
    diagnostics.push({ ruleId: f.ruleId, severity, file: f.file, ...(f.range ? { range: f.range } : {}), message: f.message, fatal });
  }
  diagnostics.sort(compareDiagnostics);

  const errorCount = diagnostics.filter((d) => d.severity === "error").length;
  const warningCount = diagnostics.length - errorCount;
  const tooManyWarnings = options.maxWarnings !== undefined && warningCount > options.maxWarnings;
  const exitCode = diagnostics.some((d) => d.fatal) ? 2 : errorCount > 0 || tooManyWarnings ? 1 : 0;
  return {
    cwd,
    diagnostics,
    errorCount,
    warningCount,
    suppressedCount,
    files: {
      typescript: tsPass.filesScanned,
      typescriptResolved: tsPass.filesResolved,
      ...(tsPass.filesFromCache > 0 ? { typescriptFromCache: tsPass.filesFromCache } : {}),
      proto: protoResult.filesChecked,
    },
    ...(options.maxWarnings !== undefined ? { maxWarnings: options.maxWarnings } : {}),
    exitCode,
    ...(storeReport ? { store: storeReport } : {}),
  };
}

async function againstPass(options: SchemaVetOptions, roots: readonly string[], protos: Awaited<ReturnType<typeof vetProtos>>): Promise<Finding[]> {
  const against = options.against ?? "";
  if (roots.length === 0) {
    return [{ ruleId: "against-error", file: options.cwd, message: `--against ${against}: no protos to compare (no proto/ folder or protoRoots in ${CONFIG_FILE_NAME}, and no .proto paths given)` }];
  }
  // A proto that does not compile is already a fatal finding; comparing the rest would only half-answer.
  if (!protos.compiled || !protos.diskPath) return [];
  const { vetEvolution } = await import("./evolve/vet-evolution.js");
  return vetEvolution({
    against,
    cwd: options.cwd,
    roots,
    compiled: protos.compiled,
    diskPath: protos.diskPath,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

function suppressionsOf(file: string, cache: Map<string, SuppressionMap>): SuppressionMap {
  let map = cache.get(file);
  if (!map) {
    try {
      map = parseSuppressions(readFileSync(file, "utf8"));
    } catch {
      map = new Map();
    }
    cache.set(file, map);
  }
  return map;
}

function compareDiagnostics(a: VetDiagnostic, b: VetDiagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return (a.range?.line ?? 0) - (b.range?.line ?? 0) || (a.range?.column ?? 0) - (b.range?.column ?? 0) || a.ruleId.localeCompare(b.ruleId);
}
