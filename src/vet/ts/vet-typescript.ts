import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Project, ts } from "ts-morph";
import type { Finding } from "../diagnostic.js";
import { isTypeScriptSource } from "../inputs.js";
import { checkNoTopLevelStruct } from "./no-top-level-struct.js";
import { PackageResolver } from "./package-identity.js";
import { filterCandidates } from "./prefilter.js";

/** What to vet: a tsconfig's files, or explicit files. */
export type TypeScriptVetInput =
  | { readonly kind: "tsconfig"; readonly tsconfig: string }
  | { readonly kind: "files"; readonly files: readonly string[] };

/** Findings of the TypeScript pass and how much work it did. */
export interface TypeScriptVetResult {
  readonly findings: Finding[];
  /** Source files considered (text-scanned). */
  readonly filesScanned: number;
  /** Candidate files parsed and type-resolved. */
  readonly filesResolved: number;
}

// Used for files no tsconfig.json covers: the settings a Node ESM project uses.
const DEFAULT_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
};

/**
 * Runs the TypeScript rules. Files are first text-filtered (see
 * `mayContainRegistration`); only the candidates become roots of one
 * ts-morph program per tsconfig, with `skipLibCheck`, and only their
 * registration calls are type-resolved.
 */
export function vetTypeScript(input: TypeScriptVetInput): TypeScriptVetResult {
  const findings: Finding[] = [];
  const groups = new Map<string | undefined, { options: ts.CompilerOptions; files: string[] }>();

  if (input.kind === "tsconfig") {
    const parsed = readTsconfig(input.tsconfig, findings);
    if (!parsed) return { findings, filesScanned: 0, filesResolved: 0 };
    groups.set(input.tsconfig, { options: parsed.options, files: parsed.fileNames.filter(isTypeScriptSource) });
  } else {
    const optionsByConfig = new Map<string | undefined, ts.CompilerOptions>();
    for (const file of input.files) {
      const config = nearestTsconfig(dirname(file));
      if (!optionsByConfig.has(config)) {
        optionsByConfig.set(config, config ? (readTsconfig(config, findings)?.options ?? DEFAULT_OPTIONS) : DEFAULT_OPTIONS);
      }
      const group = groups.get(config) ?? { options: optionsByConfig.get(config) ?? DEFAULT_OPTIONS, files: [] };
      group.files.push(file);
      groups.set(config, group);
    }
  }

  const packages = new PackageResolver();
  let filesScanned = 0;
  let filesResolved = 0;
  for (const { options, files } of groups.values()) {
    filesScanned += files.length;
    const { candidates, unreadable } = filterCandidates(files);
    for (const u of unreadable) findings.push({ ruleId: "config-error", file: u.file, message: `cannot read ${u.file}: ${u.error}` });
    if (candidates.length === 0) continue;
    filesResolved += candidates.length;
    findings.push(...vetProgram(options, candidates, packages));
  }
  return { findings, filesScanned, filesResolved };
}

function vetProgram(options: ts.CompilerOptions, candidates: readonly string[], packages: PackageResolver): Finding[] {
  const project = new Project({
    compilerOptions: withoutBuildOptions(options),
    skipAddingFilesFromTsConfig: true,
    // The program loads what the candidates import on demand; ts-morph need not wrap them.
    skipFileDependencyResolution: true,
  });
  for (const file of candidates) project.addSourceFileAtPath(file);
  const program = project.getProgram().compilerObject;
  const checker = program.getTypeChecker();
  const findings: Finding[] = [];
  for (const file of candidates) {
    const sourceFile = program.getSourceFile(resolve(file)) ?? project.getSourceFile(file)?.compilerNode;
    if (!sourceFile) continue;
    for (const d of program.getSyntacticDiagnostics(sourceFile)) findings.push(fromTsDiagnostic(d, "ts-parse-error", file));
    findings.push(...checkNoTopLevelStruct(sourceFile, checker, packages));
  }
  return findings;
}

function readTsconfig(path: string, findings: Finding[]): ts.ParsedCommandLine | undefined {
  if (!existsSync(path)) {
    findings.push({ ruleId: "config-error", file: path, message: `cannot read ${path}: file does not exist` });
    return undefined;
  }
  const read = ts.readConfigFile(path, ts.sys.readFile);
  if (read.error) {
    findings.push(fromTsDiagnostic(read.error, "config-error", path, `unreadable tsconfig: `));
    return undefined;
  }
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(path), undefined, path);
  // 18003 "No inputs were found" is not a problem for a vet run.
  const errors = parsed.errors.filter((e) => e.code !== 18003);
  for (const e of errors) findings.push(fromTsDiagnostic(e, "config-error", path, `unreadable tsconfig: `));
  return errors.length ? undefined : parsed;
}

function nearestTsconfig(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    const candidate = join(current, "tsconfig.json");
    if (existsSync(candidate)) return candidate;
    if (dirname(current) === current) return undefined;
  }
}

// Options that only matter for emitting or incremental builds; they can make an in-memory program complain.
// The rule needs declarations and `$typeName` literal types, never ambient
// @types packages nor the DOM: leaving them out skips parsing and binding
// megabytes of .d.ts (the DOM lib alone is most of a small project's `tsc` time).
// The ECMAScript libs stay: without them protobuf-es's message types do not resolve.
function withoutBuildOptions(options: ts.CompilerOptions): ts.CompilerOptions {
  const { incremental: _i, composite: _c, tsBuildInfoFile: _t, outDir: _o, declarationDir: _d, ...rest } = options;
  return { ...rest, noEmit: true, skipLibCheck: true, types: [], lib: ecmascriptLibs(rest.lib) };
}

function ecmascriptLibs(libs: readonly string[] | undefined): string[] {
  const kept = (libs ?? []).filter((lib) => !/dom|webworker|scripthost/i.test(lib));
  return kept.length > 0 ? kept : ["lib.es2022.d.ts"];
}

function fromTsDiagnostic(d: ts.Diagnostic, ruleId: string, fallbackFile: string, prefix = ""): Finding {
  const message = prefix + ts.flattenDiagnosticMessageText(d.messageText, " ");
  const file = d.file?.fileName ?? fallbackFile;
  if (!d.file || d.start === undefined) return { ruleId, file, message };
  const start = d.file.getLineAndCharacterOfPosition(d.start);
  const end = d.file.getLineAndCharacterOfPosition(d.start + (d.length ?? 0));
  return {
    ruleId,
    file,
    range: { line: start.line + 1, column: start.character + 1, endLine: end.line + 1, endColumn: end.character + 1 },
    message,
  };
}
