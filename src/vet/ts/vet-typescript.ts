import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Finding } from "../diagnostic.js";
import { isTypeScriptSource } from "../inputs.js";
import { checkNoTopLevelStruct } from "./no-top-level-struct.js";
import { PackageResolver } from "./package-identity.js";
import { neededSpecifiers } from "./needed-imports.js";
import { filterCandidates } from "./prefilter.js";
import type { ts } from "ts-morph";
import { LIB_FOLDER, libFileTexts, typescript } from "./typescript-api.js";
import { groupKey, VetCache } from "./vet-cache.js";

/** What to vet: a tsconfig's files, or explicit files. */
export type TypeScriptVetInput =
  | { readonly kind: "tsconfig"; readonly tsconfig: string }
  | { readonly kind: "files"; readonly files: readonly string[] };

/** Options of {@link vetTypeScript}. */
export interface TypeScriptVetOptions {
  /**
   * Folder of the on-disk result cache (see `vet-cache.ts`), e.g.
   * `<project>/node_modules/.cache/sessionstream`. Default: no cache.
   */
  readonly cacheDir?: string;
}

/** Findings of the TypeScript pass and how much work it did. */
export interface TypeScriptVetResult {
  readonly findings: Finding[];
  /** Source files considered (text-scanned). */
  readonly filesScanned: number;
  /** Candidate files type-resolved, in this run or (see `filesFromCache`) in the cached run. */
  readonly filesResolved: number;
  /** Of `filesResolved`, those whose findings came from the cache. */
  readonly filesFromCache: number;
}

// Used for files no tsconfig.json covers: the settings a Node ESM project uses.
const DEFAULT_OPTIONS: ts.CompilerOptions = {
  target: typescript.ScriptTarget.ES2022,
  module: typescript.ModuleKind.NodeNext,
  moduleResolution: typescript.ModuleResolutionKind.NodeNext,
  strict: true,
};

/**
 * Runs the TypeScript rules. Files are first text-filtered (see
 * `mayContainRegistration`); only the candidates become roots of one
 * program per tsconfig (ts-morph's bundled TypeScript, `skipLibCheck`, no
 * JSDoc parsing, no emit), and only their registration calls are
 * type-resolved. With `cacheDir`, a tsconfig group whose candidates and every
 * file its program loaded are unchanged (by content hash) reuses the previous
 * findings without building a program.
 */
export function vetTypeScript(input: TypeScriptVetInput, vetOptions: TypeScriptVetOptions = {}): TypeScriptVetResult {
  const findings: Finding[] = [];
  const groups = new Map<string | undefined, { options: ts.CompilerOptions; files: string[] }>();

  if (input.kind === "tsconfig") {
    const parsed = readTsconfig(input.tsconfig, findings);
    if (!parsed) return { findings, filesScanned: 0, filesResolved: 0, filesFromCache: 0 };
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
  const cache = vetOptions.cacheDir !== undefined ? VetCache.open(vetOptions.cacheDir) : undefined;
  let filesScanned = 0;
  let filesResolved = 0;
  let filesFromCache = 0;
  for (const [config, { options, files }] of groups) {
    filesScanned += files.length;
    const { candidates, texts, unreadable } = filterCandidates(files);
    for (const u of unreadable) findings.push({ ruleId: "config-error", file: u.file, message: `cannot read ${u.file}: ${u.error}` });
    if (candidates.length === 0) continue;
    filesResolved += candidates.length;
    const programOptions = withoutBuildOptions(options);
    const key = cache ? groupKey(config, programOptions, files) : "";
    const cached = cache?.lookup(key, candidates, texts);
    if (cached) {
      filesFromCache += candidates.length;
      findings.push(...cached);
      continue;
    }
    const vetted = vetProgram(programOptions, candidates, texts, packages);
    findings.push(...vetted.findings);
    cache?.store(key, candidates, vetted.loadedFiles, vetted.findings, texts);
  }
  cache?.save();
  return { findings, filesScanned, filesResolved, filesFromCache };
}

function vetProgram(
  options: ts.CompilerOptions,
  candidates: readonly string[],
  texts: ReadonlyMap<string, string>,
  packages: PackageResolver,
): { findings: Finding[]; loadedFiles: string[] } {
  const roots = candidates.map((f) => resolve(f));
  const program = buildProgram(options, roots, texts);
  const checker = program.getTypeChecker();
  const findings: Finding[] = [];
  for (const file of roots) {
    const sourceFile = program.getSourceFile(file);
    if (!sourceFile) continue;
    for (const d of program.getSyntacticDiagnostics(sourceFile)) findings.push(fromTsDiagnostic(d, "ts-parse-error", file));
    findings.push(...checkNoTopLevelStruct(sourceFile, checker, packages));
  }
  // Every file the program loaded (the candidates and what they import, transitively) except the libs: what the cache must watch.
  const loadedFiles = program
    .getSourceFiles()
    .map((sf) => sf.fileName)
    .filter((f) => !f.startsWith(LIB_FOLDER + "/"));
  return { findings, loadedFiles };
}

/**
 * The program over the candidates. A candidate's imports that none of its
 * registration calls can depend on (see `neededSpecifiers`) are left
 * unresolved, so files that only ordinary code imports are never parsed or
 * bound; every other file's imports resolve as usual. A candidate that some
 * loaded file imports keeps all its imports (its exports may decide that
 * file's types): the program is then built again with it unpruned (parses
 * and resolutions are reused), until nothing changes.
 */
function buildProgram(options: ts.CompilerOptions, roots: readonly string[], texts: ReadonlyMap<string, string>): ts.Program {
  const candidates = new Set(roots);
  const unpruned = new Set<string>();
  const parsed = new Map<string, ts.SourceFile>();
  const host = createHost(options, texts, parsed);
  const resolutionCache = typescript.createModuleResolutionCache(host.getCurrentDirectory(), host.getCanonicalFileName, options);
  const needed = new Map<string, Set<string>>();
  for (;;) {
    const importedCandidates = new Set<string>();
    host.resolveModuleNameLiterals = (literals, containingFile, redirectedReference, compilerOptions, containingSourceFile) => {
      const prune = candidates.has(containingFile) && !unpruned.has(containingFile);
      let keep: Set<string> | undefined;
      if (prune) {
        keep = needed.get(containingFile) ?? neededSpecifiers(containingSourceFile);
        needed.set(containingFile, keep);
      }
      return literals.map((literal) => {
        if (keep && !keep.has(literal.text)) return { resolvedModule: undefined };
        const mode = typescript.getModeForUsageLocation(containingSourceFile, literal, compilerOptions);
        const resolution = typescript.resolveModuleName(literal.text, containingFile, compilerOptions, host, resolutionCache, redirectedReference, mode);
        const target = resolution.resolvedModule?.resolvedFileName;
        if (target !== undefined && target !== containingFile && candidates.has(target) && !unpruned.has(target)) importedCandidates.add(target);
        return resolution;
      });
    };
    const program = typescript.createProgram({ rootNames: roots, options, host });
    if (importedCandidates.size === 0) return program;
    for (const file of importedCandidates) unpruned.add(file);
  }
}

/**
 * A compiler host on the real file system except for the lib files, which
 * come from ts-morph's embedded copies (the bundled compiler has none on
 * disk). Candidates already read by the pre-filter are not read again, each
 * file is parsed once (`parsed`), and JSDoc is not parsed (the rule reads
 * types, never comments).
 */
function createHost(options: ts.CompilerOptions, texts: ReadonlyMap<string, string>, parsed: Map<string, ts.SourceFile>): ts.CompilerHost {
  const host = typescript.createCompilerHost(options, false);
  const libs = libFileTexts();
  const libName = (file: string): string | undefined => (file.startsWith(LIB_FOLDER + "/") ? file.slice(LIB_FOLDER.length + 1) : undefined);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.jsDocParsingMode = typescript.JSDocParsingMode.ParseNone;
  host.getDefaultLibLocation = () => LIB_FOLDER;
  host.getDefaultLibFileName = (o) => `${LIB_FOLDER}/${typescript.getDefaultLibFileName(o)}`;
  host.fileExists = (file) => {
    const lib = libName(file);
    return lib !== undefined ? libs.has(lib) : texts.has(file) || fileExists(file);
  };
  host.readFile = (file) => {
    const lib = libName(file);
    return lib !== undefined ? libs.get(lib) : (texts.get(file) ?? readFile(file));
  };
  host.getSourceFile = (fileName, languageVersionOrOptions, onError) => {
    const parseOptions: ts.CreateSourceFileOptions =
      typeof languageVersionOrOptions === "object" ? languageVersionOrOptions : { languageVersion: languageVersionOrOptions };
    const key = `${parseOptions.languageVersion}:${parseOptions.impliedNodeFormat ?? ""}:${fileName}`;
    const known = parsed.get(key);
    if (known) return known;
    let text: string | undefined;
    try {
      text = host.readFile(fileName);
    } catch (err) {
      onError?.((err as Error).message);
    }
    if (text === undefined) return undefined;
    const sourceFile = typescript.createSourceFile(fileName, text, { ...parseOptions, jsDocParsingMode: typescript.JSDocParsingMode.ParseNone }, false);
    parsed.set(key, sourceFile);
    return sourceFile;
  };
  return host;
}

function readTsconfig(path: string, findings: Finding[]): ts.ParsedCommandLine | undefined {
  if (!existsSync(path)) {
    findings.push({ ruleId: "config-error", file: path, message: `cannot read ${path}: file does not exist` });
    return undefined;
  }
  const read = typescript.readConfigFile(path, typescript.sys.readFile);
  if (read.error) {
    findings.push(fromTsDiagnostic(read.error, "config-error", path, `unreadable tsconfig: `));
    return undefined;
  }
  const parsed = typescript.parseJsonConfigFileContent(read.config, typescript.sys, dirname(path), undefined, path);
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
  const message = prefix + typescript.flattenDiagnosticMessageText(d.messageText, " ");
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
