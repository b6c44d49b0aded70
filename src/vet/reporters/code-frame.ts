import type { SourceRange } from "../diagnostic.js";

/**
 * A compiler-style code frame: the reported line with its number and
 * carets under the range (first line of a multi-line range only).
 */
export function codeFrame(text: string, range: SourceRange): string {
  const lines = text.split(/\r?\n/);
  const source = lines[range.line - 1];
  if (source === undefined) return "";
  const gutter = String(range.line).length;
  const start = Math.max(range.column - 1, 0);
  const end = range.endLine === range.line ? Math.max(range.endColumn - 1, start + 1) : source.length;
  // Tabs keep their width in the caret line so the carets stay aligned.
  const pad = source.slice(0, start).replace(/[^\t]/g, " ");
  const carets = "^".repeat(Math.max(Math.min(end, source.length) - start, 1));
  return `  ${String(range.line).padStart(gutter)} | ${source}\n  ${" ".repeat(gutter)} | ${pad}${carets}`;
}
