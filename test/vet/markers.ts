// Reads the expectation markers of the vet fixtures: a line ending in
// `// <- rule-id` (protos, TS parse errors) or `// <- vet: <text>` (the TS
// rule, reported at the column where <text> starts).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export interface Expected {
  file: string;
  line: number;
  ruleId: string;
  /** 1-based column, when the marker names the reported text. */
  column?: number;
}

export function expectedMarkers(root: string, extensions: readonly string[]): Expected[] {
  const out: Expected[] = [];
  for (const file of walk(root)) {
    if (!extensions.some((e) => file.endsWith(e))) continue;
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((text, i) => {
        const vet = /\/\/ <- vet: (.+)$/.exec(text);
        if (vet?.[1]) {
          const code = text.slice(0, vet.index);
          out.push({ file, line: i + 1, ruleId: "no-top-level-struct", column: code.indexOf(vet[1]) + 1 });
          return;
        }
        const rule = /\/\/ <- ([a-z-]+)$/.exec(text);
        if (rule?.[1]) out.push({ file, line: i + 1, ruleId: rule[1] });
      });
  }
  return out.sort(byPosition);
}

export function byPosition(a: { file: string; line: number; ruleId: string }, b: { file: string; line: number; ruleId: string }): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.ruleId.localeCompare(b.ruleId);
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (name === "node_modules") return [];
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}
