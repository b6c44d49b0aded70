import { createRequire } from "node:module";
import type { ts as TypeScript } from "ts-morph";

// ts-morph bundles its own TypeScript (`@ts-morph/common/dist/typescript.js`):
// the checker and the lib files come from there, so the vet behaves the same
// whatever TypeScript the user's project has. Loading `ts-morph` itself would
// also load its wrappers and the embedded lib texts (~0.3 s of start-up); the
// compiler alone is enough for the rule, and the libs load only when a program
// is built.
const fromTsMorph = createRequire(createRequire(import.meta.url).resolve("ts-morph"));

/**
 * The TypeScript compiler API bundled with ts-morph (the same object as
 * ts-morph's `ts`). Types come from `import type { ts } from "ts-morph"`.
 */
export const typescript = fromTsMorph("@ts-morph/common/dist/typescript.js") as typeof TypeScript;

/** Version of the `@ts-morph/common` bundle (part of the cache key). */
export const TYPESCRIPT_VERSION: string = typescript.version;

/** Folder the lib files appear under in vetting programs (they are served from memory, as ts-morph does). */
export const LIB_FOLDER = "/node_modules/typescript/lib";

let libTexts: ReadonlyMap<string, string> | undefined;

/** The TypeScript lib files (`lib.es2022.d.ts`, ...) by file name, from ts-morph's embedded copies. */
export function libFileTexts(): ReadonlyMap<string, string> {
  if (!libTexts) {
    const common = fromTsMorph("@ts-morph/common") as { getLibFiles(): ReadonlyArray<{ fileName: string; text: string }> };
    libTexts = new Map(common.getLibFiles().map((f) => [f.fileName, f.text]));
  }
  return libTexts;
}
