/** The comment directive that silences findings on the next line. */
export const DISABLE_NEXT_LINE = "sessionstream-vet-disable-next-line";

// `// sessionstream-vet-disable-next-line rule-a, rule-b -- optional reason`
// (also inside `/* ... */`); no rule ids means every rule.
const DIRECTIVE = /(?:\/\/|\/\*)\s*sessionstream-vet-disable-next-line\b([^\n]*)/;

/**
 * Per-line suppressions of one file: for each 1-based line, the rule ids a
 * directive on the line above disables (`"*"` for all rules).
 */
export type SuppressionMap = ReadonlyMap<number, ReadonlySet<string>>;

/** Parses the suppression directives of a TypeScript or proto source text. */
export function parseSuppressions(text: string): SuppressionMap {
  const map = new Map<number, Set<string>>();
  if (!text.includes(DISABLE_NEXT_LINE)) return map;
  const lines = text.split(/\r?\n/);
  lines.forEach((lineText, index) => {
    const match = DIRECTIVE.exec(lineText);
    if (!match) return;
    const rest = (match[1] ?? "").replace(/\*\/.*$/, "").split("--")[0] ?? "";
    const ids = rest.split(/[\s,]+/).filter((s) => s.length > 0);
    // index is 0-based for the directive's line, so the next line is index + 2 in 1-based terms.
    map.set(index + 2, new Set(ids.length ? ids : ["*"]));
  });
  return map;
}

/** Whether `ruleId` is suppressed on any of `lines` (1-based). */
export function isSuppressed(map: SuppressionMap, ruleId: string, lines: readonly number[]): boolean {
  return lines.some((line) => {
    const ids = map.get(line);
    return ids !== undefined && (ids.has("*") || ids.has(ruleId));
  });
}
