import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { compileProtos, ProtoCompileError, type CompiledProtos, type ProtoDiagnostic } from "../../codegen/compile-protos.js";
import type { Finding } from "../diagnostic.js";

/** Result of {@link compileResilient}. */
export interface ResilientCompileResult {
  /** The protos that compiled (all of them, or all but the broken ones and what imports them). */
  readonly compiled?: CompiledProtos;
  /** Disk path (under the user's roots) of a compiled file, by its proto path (`chat/v1/chat.proto`). */
  diskPath(protoPath: string): string;
  /** One `proto-parse-error` per compiler diagnostic, in the user's files. */
  readonly findings: Finding[];
  /** True when some file failed to compile (cross-file rules are then unreliable). */
  readonly incomplete: boolean;
}

// Each round excludes the files the previous one reported; files importing a
// broken file fail in the next round, so a few rounds reach a fixed point.
const MAX_ROUNDS = 6;

/**
 * Compiles the protos under `roots`; when some fail, reports every
 * diagnostic and compiles the rest again without the broken files (through a
 * temporary mirror of symlinks), so one bad file does not hide the findings
 * of all the others.
 */
export async function compileResilient(roots: readonly string[]): Promise<ResilientCompileResult> {
  const findings: Finding[] = [];
  try {
    const compiled = await compileProtos({ roots });
    return { compiled, diskPath: (p) => compiled.diskPath(p), findings, incomplete: false };
  } catch (err) {
    if (!(err instanceof ProtoCompileError)) throw err;
    if (!addDiagnostics(err, findings, roots[0] ?? ".", (f) => f)) return { diskPath: (p) => p, findings, incomplete: true };
  }
  const broken = new Set(findings.map((f) => f.file));
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const mirror = mkdtempSync(join(tmpdir(), "sessionstream-vet-"));
    try {
      const mirrorRoots = roots.map((root, i) => mirrorRoot(root, join(mirror, String(i)), broken));
      if (mirrorRoots.every((m) => m.files === 0)) return { diskPath: (p) => p, findings, incomplete: true };
      const back = (file: string): string => {
        for (const [i, m] of mirrorRoots.entries()) {
          if (file.startsWith(m.dir + sep)) return join(roots[i] ?? "", relative(m.dir, file));
        }
        return file;
      };
      try {
        const compiled = await compileProtos({ roots: mirrorRoots.map((m) => m.dir) });
        return { compiled, diskPath: (p) => back(compiled.diskPath(p)), findings, incomplete: true };
      } catch (err) {
        if (!(err instanceof ProtoCompileError)) throw err;
        const before = broken.size;
        const fresh: Finding[] = [];
        if (!addDiagnostics(err, fresh, roots[0] ?? ".", back)) return { diskPath: (p) => p, findings, incomplete: true };
        for (const f of fresh) {
          if (!broken.has(f.file)) findings.push(f);
          broken.add(f.file);
        }
        if (broken.size === before) return { diskPath: (p) => p, findings, incomplete: true };
      }
    } finally {
      rmSync(mirror, { recursive: true, force: true });
    }
  }
  return { diskPath: (p) => p, findings, incomplete: true };
}

/** Adds findings for the error's diagnostics; false when it had none (nothing to exclude and retry). */
function addDiagnostics(err: ProtoCompileError, into: Finding[], fallbackFile: string, mapFile: (f: string) => string): boolean {
  if (err.diagnostics.length === 0) {
    into.push({ ruleId: "proto-parse-error", file: fallbackFile, message: err.message });
    return false;
  }
  for (const d of err.diagnostics) into.push(toFinding(d, mapFile));
  return true;
}

function toFinding(d: ProtoDiagnostic, mapFile: (f: string) => string): Finding {
  const line = Math.max(d.line, 1);
  const column = Math.max(d.column, 1);
  return {
    ruleId: "proto-parse-error",
    file: mapFile(d.file),
    range: { line, column, endLine: line, endColumn: column },
    message: d.message,
  };
}

function mirrorRoot(root: string, dir: string, exclude: ReadonlySet<string>): { dir: string; files: number } {
  mkdirSync(dir, { recursive: true });
  let files = 0;
  const walk = (from: string): void => {
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const full = join(from, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".proto") && !exclude.has(full)) {
        const target = join(dir, relative(root, full));
        mkdirSync(dirname(target), { recursive: true });
        symlinkSync(full, target);
        files++;
      }
    }
  };
  walk(root);
  return { dir, files };
}
