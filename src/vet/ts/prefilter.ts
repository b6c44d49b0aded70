import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** The registration methods the TypeScript rules look at. */
export const REGISTRATION_METHODS: ReadonlySet<string> = new Set([
  "registerCommand",
  "registerEvent",
  "registerUIEvent",
  "registerTimelineEntity",
]);

const MAY_REGISTER = /\bregister(?:Command|Event|UIEvent|TimelineEntity)\b/;

/**
 * Cheap text test run before any parsing: only a file that spells one of the
 * registration method names can contain a registration call, so every other
 * file is never parsed or type-resolved (this is what keeps schema-vet much
 * cheaper than `tsc --noEmit`). Files a candidate imports are still loaded by
 * the compiler when their types are needed.
 */
export function mayContainRegistration(text: string): boolean {
  return MAY_REGISTER.test(text);
}

/**
 * Reads `files` and keeps the candidates (with their texts, by absolute path,
 * so the compiler and the cache need not read them again); unreadable files
 * are returned separately.
 */
export function filterCandidates(files: readonly string[]): {
  candidates: string[];
  texts: Map<string, string>;
  unreadable: Array<{ file: string; error: string }>;
} {
  const candidates: string[] = [];
  const texts = new Map<string, string>();
  const unreadable: Array<{ file: string; error: string }> = [];
  for (const file of files) {
    try {
      const text = readFileSync(file, "utf8");
      if (mayContainRegistration(text)) {
        candidates.push(file);
        texts.set(resolve(file), text);
      }
    } catch (err) {
      unreadable.push({ file, error: (err as Error).message });
    }
  }
  return { candidates, texts, unreadable };
}
