import { readFileSync } from "node:fs";

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

/** Reads `files` and keeps the candidates; unreadable files are returned separately. */
export function filterCandidates(files: readonly string[]): { candidates: string[]; unreadable: Array<{ file: string; error: string }> } {
  const candidates: string[] = [];
  const unreadable: Array<{ file: string; error: string }> = [];
  for (const file of files) {
    try {
      if (mayContainRegistration(readFileSync(file, "utf8"))) candidates.push(file);
    } catch (err) {
      unreadable.push({ file, error: (err as Error).message });
    }
  }
  return { candidates, unreadable };
}
