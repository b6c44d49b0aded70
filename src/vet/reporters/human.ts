import { readFileSync } from "node:fs";
import type { SchemaVetResult } from "../run-vet.js";
import { codeFrame } from "./code-frame.js";
import { displayPath } from "./paths.js";

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

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
