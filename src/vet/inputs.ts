import { existsSync, readdirSync, statSync } from "node:fs";
import { extname, join, resolve } from "node:path";

/** The files and folders `schema-vet path...` was given, sorted by kind. */
export interface VetInputs {
  /** TypeScript source files (absolute, no `.d.ts`). */
  readonly tsFiles: string[];
  /** `.proto` files (absolute). */
  readonly protoFiles: string[];
  /** Folders given on the command line that hold `.proto` files (absolute). */
  readonly protoDirs: string[];
  /** Paths that do not exist or cannot be read. */
  readonly missing: string[];
}

const TS_EXTENSIONS = new Set([".ts", ".tsx", ".mts", ".cts"]);
// Folders that never hold the user's own sources.
const SKIPPED_DIRS = new Set(["node_modules", "dist", "build", "coverage"]);

/** Whether `file` is a TypeScript source (not a declaration file). */
export function isTypeScriptSource(file: string): boolean {
  return TS_EXTENSIONS.has(extname(file)) && !/\.d\.[mc]?ts$/.test(file) && !file.endsWith(".d.tsx");
}

/** Expands `paths` (files or folders, relative to `cwd`) into TypeScript and proto files. */
export function collectInputs(cwd: string, paths: readonly string[]): VetInputs {
  const inputs: VetInputs = { tsFiles: [], protoFiles: [], protoDirs: [], missing: [] };
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let stats;
    try {
      stats = existsSync(abs) ? statSync(abs) : undefined;
    } catch {
      stats = undefined;
    }
    if (!stats) {
      inputs.missing.push(abs);
    } else if (stats.isDirectory()) {
      const before = inputs.protoFiles.length;
      walk(abs, inputs);
      if (inputs.protoFiles.length > before) inputs.protoDirs.push(abs);
    } else if (abs.endsWith(".proto")) {
      inputs.protoFiles.push(abs);
    } else if (isTypeScriptSource(abs)) {
      inputs.tsFiles.push(abs);
    }
  }
  return inputs;
}

function walk(dir: string, inputs: VetInputs): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) walk(full, inputs);
    } else if (entry.name.endsWith(".proto")) {
      inputs.protoFiles.push(full);
    } else if (isTypeScriptSource(full)) {
      inputs.tsFiles.push(full);
    }
  }
}
