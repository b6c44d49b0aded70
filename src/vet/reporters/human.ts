import { readFileSync } from "node:fs";
import type { SchemaVetResult } from "../run-vet.js";
import { codeFrame } from "./code-frame.js";
import { displayPath } from "./paths.js";
import type { StoreReport } from "../store/check-store.js";

/**
 * Compiler-style text: `path:line:col  severity  rule-id  message`, a code
 * frame, and a summary line with counts.
 */
export function formatHuman(result: SchemaVetResult): string {
  const out: string[] = [];
  const texts = new Map<string, string | undefined>();
  for (const d of result.diagnostics) {
    const where = d.range ? `${displayPath(result.cwd, d.file)}:${d.range.line}:${d.range.column}` : displayPath(result.cwd, d.file);
    out.push(`${where}  ${d.severity}  ${d.ruleId}  ${d.message}`);
    if (d.range) {
      if (!texts.has(d.file)) texts.set(d.file, readOrUndefined(d.file));
      const text = texts.get(d.file);
      const frame = text === undefined ? "" : codeFrame(text, d.range);
      if (frame) out.push(frame);
    }
    out.push("");
  }
  if (result.store) out.push(...storeLines(result.store, result.cwd), "");
  out.push(summaryLine(result));
  return out.join("\n") + "\n";
}

/** `2 errors, 1 warning (1 suppressed) in 12 TypeScript files (3 type-resolved) and 2 proto files`. */
export function summaryLine(result: SchemaVetResult): string {
  const { errorCount, warningCount, suppressedCount, files } = result;
  const counts =
    errorCount + warningCount === 0 ? "no problems" : `${plural(errorCount, "error")}, ${plural(warningCount, "warning")}`;
  const suppressed = suppressedCount ? ` (${suppressedCount} suppressed)` : "";
  const scope = `${plural(files.typescript, "TypeScript file")} (${files.typescriptResolved} type-resolved) and ${plural(files.proto, "proto file")}`;
  const limit =
    result.maxWarnings !== undefined && warningCount > result.maxWarnings
      ? `; ${warningCount} warnings exceed --max-warnings ${result.maxWarnings}`
      : "";
  return `schema-vet: ${counts}${suppressed} in ${scope}${limit}`;
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The `--store` table: rows per event name / entity kind and type name, how many were checked, and the verdict. */
export function storeLines(store: StoreReport, cwd: string): string[] {
  const head = `store ${displayPath(cwd, store.location)}: ${plural(store.sessions, "session")}, ${store.all ? "every row checked" : "a sample of each name checked (--all checks every row)"}`;
  const rows = store.groups.map((g) => [g.family === "event" ? "event" : "entity", g.name, g.typeName, `${g.rows} rows`, `${g.checked} checked`, g.status === "ok" ? "ok" : g.status === "undecodable" ? `${g.failed} failed` : g.status]);
  const widths = rows.reduce((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), [] as number[]);
  const lines = [head, ...rows.map((r) => "  " + r.map((c, i) => (i === 3 || i === 4 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd())];
  if (store.groups.length === 0) lines.push("  (no events or entities stored)");
  if (store.rebuild) {
    const r = store.rebuild;
    lines.push(`rebuild dry run: ${plural(r.sessions, "session")} replayed, ${r.changedSessions} would change (${plural(r.changedEntities, "entity", "entities")})`);
  }
  return lines;
}
