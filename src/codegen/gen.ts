// The `sessionstream gen` pipeline: compile protos with buf, run protoc-gen-es
// and protoc-gen-sessionstream in-process, write regenerated files
// atomically, create missing stubs and merge new cases into existing ones.
import { create, type DescFile } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, type CodeGeneratorResponse } from "@bufbuild/protobuf/wkt";
import type { Plugin } from "@bufbuild/protoplugin";
import { protocGenEs } from "@bufbuild/protoc-gen-es/dist/cjs/src/protoc-gen-es-plugin.js";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { AnnotationError, formatDiagnostic, type FileModel } from "./annotations.js";
import { compileProtos, ProtoCompileError, type CompiledProtos } from "./compile-protos.js";
import { loadConfig, type ResolvedConfig } from "./config.js";
import { annotatedModels, protocGenSessionstream, relativeSpecifier } from "./plugin.js";
import { APP_FILE, generatedFileName, stubPaths } from "./names.js";
import { runHooksPath, runKinds } from "./run-kinds.js";
import { handlerIdentifiers, stubFiles, stubNameClashes, type StubImports } from "./stub-templates.js";
import { SessionstreamError } from "../runtime/errors.js";

/** Options of {@link runGen}. */
export interface GenOptions {
  /** The project folder (holds `sessionstream.config.json`). Default: the current directory. */
  readonly projectDir?: string;
  /** Another config file, relative to `projectDir`. */
  readonly configFile?: string;
  /** Compute everything, write nothing; exit code 1 when a file would change. Default false. */
  readonly check?: boolean;
}

/** What happened (or, with `check`, would happen) to one file. */
export interface GenFileReport {
  /** Relative to the project folder, `/`-separated. */
  readonly path: string;
  /** `removed`: a generated file no proto produces any more, or a temp file of an interrupted gen. */
  readonly status: "created" | "updated" | "unchanged" | "removed";
  /** `generated` files are rewritten on every run; `stub` files are the user's. */
  readonly kind: "generated" | "stub";
  /** For merged stubs: the names whose entries were added. */
  readonly added?: readonly string[];
  /** Why a file is `removed`. */
  readonly reason?: string;
}

/** The result of a `gen` run; the CLI prints it. */
export interface GenResult {
  /**
   * 0: done (or fresh with `check`); 1: `check` found stale files, or a stub
   * could not be merged (left unchanged; `errors` says what to add by hand);
   * 2: bad config, protos or annotations, or colliding stub names (nothing written).
   */
  readonly exitCode: 0 | 1 | 2;
  readonly files: readonly GenFileReport[];
  /** Warnings: stale cases of removed events, stubs that could not be merged. */
  readonly notes: readonly string[];
  /** With exit code 2: the compiler's or the annotation checker's `file:line:col: message` lines. */
  readonly errors: readonly string[];
}

/** protoc-gen-es options `gen` uses (also what a buf.gen.yaml must pass to produce identical files). */
export function esPluginParameter(importExtension: string): string {
  // User _pb files import the options descriptor from this package, not from a local copy.
  return `target=ts,import_extension=${importExtension},map_imports=sessionstream/v1/:sessionstream/gen`;
}

/** protoc-gen-sessionstream options `gen` uses. */
export function sessionstreamPluginParameter(importExtension: string): string {
  return `target=ts,import_extension=${importExtension}`;
}

/** Runs `gen` once. Never throws for user errors: they come back as exit code 2 with `errors`. */
export async function runGen(options: GenOptions = {}): Promise<GenResult> {
  let config: ResolvedConfig;
  let compiled: CompiledProtos;
  try {
    config = loadConfig(options.projectDir ?? process.cwd(), options.configFile);
    compiled = await compileProtos({ roots: config.protoRoots });
  } catch (err) {
    if (err instanceof ProtoCompileError || err instanceof SessionstreamError) return failure(err.message.split("\n"));
    throw err;
  }
  const allFiles = compiled.fileDescriptorSet.file
    .map((f) => compiled.registry.getFile(f.name))
    .filter((f): f is DescFile => f !== undefined);
  let models: FileModel[];
  try {
    models = annotatedModels(compiled.files, allFiles);
    const clashes = stubNameClashes(models, {
      stub: (stub) => toDisplay(config, join(config.stubsDir, stub)),
      proto: (file) => displayProto(config, compiled, file),
    });
    if (clashes.length) throw new AnnotationError(clashes);
  } catch (err) {
    if (err instanceof AnnotationError) {
      return failure(err.diagnostics.map((d) => formatDiagnostic(d, (f) => displayProto(config, compiled, f))));
    }
    throw err;
  }

  const planned = new Map<string, { content: string; kind: "generated" | "stub"; added?: readonly string[] }>();
  try {
    for (const [plugin, parameter] of [
      [protocGenEs, esPluginParameter(config.importExtension)],
      [protocGenSessionstream, sessionstreamPluginParameter(config.importExtension)],
    ] as const) {
      for (const file of runPlugin(plugin, compiled, parameter).file) {
        planned.set(join(config.outDir, file.name), { content: file.content, kind: "generated" });
      }
    }
  } catch (err) {
    return failure([`code generation failed: ${(err as Error).message}`]);
  }

  const notes: string[] = [];
  const errors: string[] = [];
  await planStubs(config, models, planned, notes, errors);
  if (!options.check) {
    // Proto edits that `schema-vet --against HEAD` would flag: warnings only, never a failure.
    const { evolutionNotes } = await import("../vet/evolve/gen-warnings.js");
    notes.push(...(await evolutionNotes(config.projectDir, config.protoRoots, compiled)));
  }

  const files: GenFileReport[] = [];
  for (const [path, plan] of planned) {
    const current = existsSync(path) ? readFileSync(path, "utf8") : undefined;
    const status = current === undefined ? "created" : current === plan.content ? "unchanged" : "updated";
    files.push({
      path: toDisplay(config, path),
      status,
      kind: plan.kind,
      ...(plan.added && plan.added.length ? { added: plan.added } : {}),
    });
    if (!options.check && status !== "unchanged") writeAtomically(path, plan.content);
  }
  for (const { path, reason } of leftovers(config, planned)) {
    files.push({ path: toDisplay(config, path), status: "removed", kind: "generated", reason });
    if (!options.check) removeLeftover(config, path);
  }
  files.sort((a, b) => (a.kind === b.kind ? a.path.localeCompare(b.path) : a.kind === "generated" ? -1 : 1));
  const stale = files.some((f) => f.status !== "unchanged");
  return { exitCode: errors.length || (options.check && stale) ? 1 : 0, files, notes, errors };
}

function failure(errors: readonly string[]): GenResult {
  return { exitCode: 2, files: [], notes: [], errors };
}

/** Runs one plugin on the compiled protos; throws with the plugin's error. */
function runPlugin(plugin: Plugin, compiled: CompiledProtos, parameter: string): CodeGeneratorResponse {
  const request = create(CodeGeneratorRequestSchema, {
    fileToGenerate: compiled.files.map((f) => f.proto.name),
    parameter,
    protoFile: compiled.fileDescriptorSet.file,
  });
  const response = plugin.run(request);
  if (response.error) throw new Error(`${plugin.name}: ${response.error}`);
  return response;
}

/** Adds missing stubs, and merged versions of existing ones, to `planned`. */
async function planStubs(
  config: ResolvedConfig,
  models: readonly FileModel[],
  planned: Map<string, { content: string; kind: "generated" | "stub"; added?: readonly string[] }>,
  notes: string[],
  errors: string[],
): Promise<void> {
  if (models.length === 0) return;
  const handlerIds = handlerIdentifiers(models);
  const ext = config.importExtension;
  const imports: StubImports = {
    runtime: "sessionstream",
    generated: (from, model) => relativeSpecifier(join(config.stubsDir, from), join(config.outDir, generatedFileName(model.file)), ext),
    app: (from) => relativeSpecifier(join(config.stubsDir, from), join(config.outDir, APP_FILE), ext),
    stub: (from, to) => relativeSpecifier(join(config.stubsDir, from), join(config.stubsDir, to), ext),
    displayPath: (stub) => toDisplay(config, join(config.stubsDir, stub)),
  };
  for (const stub of stubFiles(models, imports)) {
    const path = join(config.stubsDir, stub.path);
    if (!existsSync(path)) {
      planned.set(path, { content: stub.content, kind: "stub" });
      continue;
    }
    const text = readFileSync(path, "utf8");
    // ts-morph is loaded only when there is a stub to merge into.
    const merge = await import("./merge-stubs.js");
    let content = text;
    const added: string[] = [];
    const display = toDisplay(config, path);
    let failed = false;
    for (const m of models) {
      const r =
        stub.path === stubPaths.app
          ? merge.mergeAppStub(content, m, imports, { handlerIdentifiers: handlerIds })
          : stub.path === stubPaths.uiProjection(m.file)
            ? merge.mergeProjectionStub(content, m, "ui")
            : stub.path === stubPaths.timelineProjection(m.file)
              ? merge.mergeProjectionStub(content, m, "timeline")
              : undefined;
      if (!r) continue;
      if (r.error) {
        // Never write a file that does not parse: this stub stays as it is and gen exits 1.
        failed = true;
        errors.push(`${display}: ${r.error}. Add by hand, then run gen again:`, ...(r.manual ?? []).flatMap((l) => l.split("\n")).map((l) => `  ${l}`));
        continue;
      }
      content = r.content;
      added.push(...r.added);
      if (r.problem) notes.push(`${display}: ${r.problem}`);
      for (const name of r.stale) {
        notes.push(`${display}: "${name}" matches nothing in the protos any more; left in place (remove it yourself)`);
      }
    }
    const kinds = runKinds(models);
    if (stub.path === stubPaths.app && !failed && kinds.length && !content.includes("registerAppRunKinds") && registersRunKindsByHand(path, content)) {
      // An app that registers its run kinds itself: a registerAppRunKinds call would register them twice.
      const fresh = kinds.filter((k) => !existsSync(join(config.stubsDir, runHooksPath(k.kind))));
      if (fresh.length) {
        notes.push(
          `${display}: registers run kinds itself (hub.registerRunKind), so gen did not add registerAppRunKinds; ` +
            `make sure it registers ${fresh.map((k) => `"${k.kind}"`).join(", ")} (hooks stubs: ${fresh.map((k) => toDisplay(config, join(config.stubsDir, runHooksPath(k.kind)))).join(", ")}), ` +
            `or switch to registerAppRunKinds(hub, { ... }), which checks that every kind has hooks`,
        );
      }
    } else if (stub.path === stubPaths.app && !failed) {
      // Hooks of run kinds new since app.ts was written (registerAppRunKinds requires every kind).
      const r = merge.mergeAppRunKinds(content, kinds, imports);
      if (r.error) {
        failed = true;
        errors.push(`${display}: ${r.error}. Add by hand, then run gen again:`, ...(r.manual ?? []).flatMap((l) => l.split("\n")).map((l) => `  ${l}`));
      } else {
        content = r.content;
        added.push(...r.added);
        if (r.problem) notes.push(`${display}: ${r.problem}`);
        for (const name of r.stale) notes.push(`${display}: run kind "${name}" matches nothing in the protos any more; left in place (remove it yourself)`);
      }
    }
    if (!failed) planned.set(path, { content, kind: "stub", added });
  }
}

/**
 * True when the app module, or a local module it imports, calls
 * `registerRunKind(` itself (e.g. `src/runs.ts` registering the kinds by hand).
 * Files gen wrote do not count: `registerAppRunKinds` in the generated
 * `app_sessionstream.ts` calls `hub.registerRunKind` for the app.
 */
function registersRunKindsByHand(appPath: string, text: string): boolean {
  if (text.includes("registerRunKind(")) return true;
  for (const m of text.matchAll(/from\s+["'](\.{1,2}\/[^"']+)["']/g)) {
    const target = join(dirname(appPath), m[1]!);
    for (const candidate of [target.replace(/\.js$/, ".ts"), target, `${target}.ts`]) {
      if (!existsSync(candidate) || !statSync(candidate).isFile() || isGenerated(candidate)) continue;
      if (readFileSync(candidate, "utf8").includes("registerRunKind(")) return true;
    }
  }
  return false;
}

/** The header line of every file gen writes into the out dir (protoc-gen-es and protoc-gen-sessionstream). */
const GENERATED_HEADER = /^\/\/ @generated by protoc-gen-(?:es|sessionstream) /;
/** A temp file of {@link writeAtomically}: `<file>.<pid>.<random>.tmp`. */
const TEMP_FILE = /\.ts\.(\d+)\.[a-z0-9]+\.tmp$/;
/** A temp file older than this is stray even when its pid is alive again (pid reuse). */
const TEMP_MAX_AGE_MS = 10 * 60_000;

/**
 * What gen removes: files in the out dir whose `@generated` header says gen
 * wrote them but that no proto produces any more (a deleted or renamed
 * proto), and temp files left by a gen that died mid-write (`kill -9`),
 * in the out dir and the stub folders. Temp files of a gen still running are left alone.
 */
function leftovers(config: ResolvedConfig, planned: ReadonlyMap<string, unknown>): Array<{ path: string; reason: string }> {
  const out = new Map<string, string>();
  const visit = (dir: string, recursive: boolean) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { recursive, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const temp = TEMP_FILE.exec(entry.name);
      if (temp) {
        if (isStrayTemp(path, Number(temp[1]))) out.set(path, "temp file of an interrupted gen");
      } else if (recursive && !planned.has(path) && isGenerated(path)) {
        out.set(path, "no proto produces it any more");
      }
    }
  };
  visit(config.outDir, true);
  for (const dir of [config.stubsDir, join(config.stubsDir, "handlers"), join(config.stubsDir, "projections"), join(config.stubsDir, "runs")]) visit(dir, false);
  return [...out].map(([path, reason]) => ({ path, reason }));
}

/** True when the file's leading comment block (the proto's comments, then the preamble) holds gen's `@generated` line. */
function isGenerated(path: string): boolean {
  for (const line of readFileSync(path, "utf8").slice(0, 16_384).split("\n")) {
    if (GENERATED_HEADER.test(line)) return true;
    if (line.trim() !== "" && !line.startsWith("//")) return false;
  }
  return false;
}

function isStrayTemp(path: string, pid: number): boolean {
  if (pid === process.pid) return false;
  if (Date.now() - statSync(path).mtimeMs > TEMP_MAX_AGE_MS) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "EPERM";
  }
}

/** Removes a leftover and the folders of the out dir it leaves empty. */
function removeLeftover(config: ResolvedConfig, path: string): void {
  rmSync(path, { force: true });
  for (let dir = dirname(path); dir.startsWith(config.outDir + sep); dir = dirname(dir)) {
    if (readdirSync(dir).length > 0) break;
    rmdirSync(dir);
  }
}

/** Writes through a temporary file and a rename, so readers never see half a file. */
function writeAtomically(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function toDisplay(config: ResolvedConfig, path: string): string {
  return relative(config.projectDir, path).split(sep).join("/");
}

function displayProto(config: ResolvedConfig, compiled: CompiledProtos, protoPath: string): string {
  return toDisplay(config, compiled.diskPath(protoPath));
}
