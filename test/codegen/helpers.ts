// Temporary user projects for codegen tests: a copy of a fixture with
// node_modules links to this package (built dist/, as users get it) and to
// @bufbuild/protobuf, plus a strict tsc run over the project.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import ts from "typescript";

export const REPO = resolve(import.meta.dirname, "../..");
export const FIXTURES = join(REPO, "fixtures/codegen");

/** Strict compiler options, as the issue asks (and as `init` projects use). */
export const STRICT: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  exactOptionalPropertyTypes: true,
  noImplicitOverride: true,
  verbatimModuleSyntax: true,
  noEmit: true,
  skipLibCheck: true,
  lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
  types: [],
};

/** Fails early with the fix when dist/ is missing (the plugin bin and the package exports use it). */
export function requireBuild(): void {
  if (!existsSync(join(REPO, "dist/codegen/plugin.js")) || !existsSync(join(REPO, "dist/index.d.ts"))) {
    throw new Error("dist/ is not built: run `npm run build` (npm test does it in pretest)");
  }
}

/** A temp project with `proto/` copied from `fixtures/codegen/<fixture>/proto`. Remove it with `rmSync`. */
export function makeProject(fixture: string): string {
  requireBuild();
  const dir = mkdtempSync(join(tmpdir(), `ss-codegen-${fixture}-`));
  cpSync(join(FIXTURES, fixture, "proto"), join(dir, "proto"), { recursive: true });
  mkdirSync(join(dir, "node_modules/@bufbuild"), { recursive: true });
  symlinkSync(REPO, join(dir, "node_modules/sessionstream"), "dir");
  symlinkSync(join(REPO, "node_modules/@bufbuild/protobuf"), join(dir, "node_modules/@bufbuild/protobuf"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "fixture-app", private: true, type: "module" }));
  return dir;
}

export function removeProject(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Every file under `dir`, relative and `/`-separated, with its text (node_modules skipped). */
export function readTree(dir: string, under = ""): Map<string, string> {
  const out = new Map<string, string>();
  const root = join(dir, under);
  if (!existsSync(root)) return out;
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const rel = relative(dir, full).split("\\").join("/");
    if (rel.startsWith("node_modules/")) continue;
    out.set(rel, readFileSync(full, "utf8"));
  }
  return out;
}

/** One diagnostic, as `file(line,col): TS1234: message` with the file relative to the project. */
export interface Diag {
  readonly file: string;
  readonly line: number;
  readonly code: number;
  readonly message: string;
}

/** Type-checks every `.ts` file under `<dir>/src` with {@link STRICT}; returns the diagnostics of project files. */
export function typecheck(dir: string): Diag[] {
  const files = [...readTree(dir, "src").keys()].filter((f) => f.endsWith(".ts")).map((f) => join(dir, f));
  const program = ts.createProgram(files, STRICT);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && d.file.fileName.startsWith(dir) && !d.file.fileName.includes("/node_modules/"))
    .map((d) => {
      const pos = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return {
        file: relative(dir, d.file!.fileName).split("\\").join("/"),
        line: pos.line + 1,
        code: d.code,
        message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
      };
    });
}

/** Captures what the `gen` verb prints. */
export function captureIO() {
  const io = {
    stdout: [] as string[],
    stderr: [] as string[],
    exitCode: 0,
    out: (l: string) => void io.stdout.push(l),
    err: (l: string) => void io.stderr.push(l),
    setExitCode: (c: number) => void (io.exitCode = c),
  };
  return io;
}
