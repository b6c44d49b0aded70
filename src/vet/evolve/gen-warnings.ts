// What `sessionstream gen` says about schema evolution while you edit: the
// findings `schema-vet --against HEAD` would report for the uncommitted
// proto changes, as warning notes. Never fails and never throws: outside a
// git repository, without a HEAD, or with nothing changed it says nothing.
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import type { CompiledProtos } from "../../codegen/compile-protos.js";
import { effectiveSeverity, loadVetConfig } from "../config.js";
import { findRule } from "../rules.js";
import { isSuppressed, parseSuppressions } from "../suppressions.js";
import { run } from "./baseline.js";
import { vetEvolution } from "./vet-evolution.js";

/**
 * One line per finding (`file:line:col: severity rule-id: message`) that
 * `schema-vet --against HEAD` would report for the working tree's protos,
 * with the project's rule settings and disable comments applied.
 */
export async function evolutionNotes(projectDir: string, roots: readonly string[], compiled: CompiledProtos): Promise<string[]> {
  try {
    if (roots.length === 0) return [];
    const head = await run("git", ["rev-parse", "--verify", "--quiet", "HEAD"], projectDir);
    if (head.code !== 0) return [];
    // The common case: no proto differs from HEAD, nothing to compile or compare.
    const changed = await run("git", ["status", "--porcelain", "--", ...roots], projectDir);
    if (changed.code !== 0 || changed.stdout.trim() === "") return [];
    const findings = await vetEvolution({ against: "HEAD", cwd: projectDir, roots, compiled, diskPath: (p) => compiled.diskPath(p) });
    const { config } = loadVetConfig(projectDir);
    const lines: string[] = [];
    for (const f of findings) {
      const info = findRule(f.ruleId);
      if (!info || info.fatal) continue;
      const severity = effectiveSeverity(config, f.ruleId, info.defaultSeverity);
      if (severity === "off") continue;
      if (f.range && isSuppressed(suppressions(f.file), f.ruleId, [f.range.line, ...(f.suppressibleAt ?? [])])) continue;
      const where = `${relative(projectDir, f.file) || f.file}${f.range ? `:${f.range.line}:${f.range.column}` : ""}`;
      lines.push(`${where}: ${severity} ${f.ruleId}: ${f.message}`);
    }
    if (lines.length > 0) {
      lines.push(`these proto changes would break stored or live data (\`sessionstream schema-vet --against HEAD\` reports them; see "Evolving schemas" in the README)`);
    }
    return lines;
  } catch {
    return [];
  }
}

function suppressions(file: string) {
  try {
    return parseSuppressions(readFileSync(file, "utf8"));
  } catch {
    return new Map<number, ReadonlySet<string>>();
  }
}
