// examples/<template> is exactly what `sessionstream init --template <template>`
// followed by `sessionstream gen` writes (generated code included), so a fresh
// clone can run it at once (`npm start`) and a reader sees real output.
// `npm run examples:sync` rewrites them; test/examples/examples-sync.test.ts
// regenerates into a temp folder and fails on any difference.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { runGen } from "../src/codegen/gen.js";
import { initProject, listTemplates } from "../src/scaffold/init-project.js";

/** The repository root. */
export const REPO = fileURLToPath(new URL("..", import.meta.url));
/** Where the checked-in examples live. */
export const EXAMPLES_DIR = join(REPO, "examples");
/** The command that refreshes the examples (named in the sync test's failure message). */
export const SYNC_COMMAND = "npm run examples:sync";
/** Never part of an example: installs and local state. */
const IGNORED = new Set(["node_modules", ".sessionstream"]);

/** Every template's name (a folder under templates/). */
export function templateNames(): string[] {
  return listTemplates()
    .map((t) => t.name)
    .sort();
}

/**
 * Writes `templates/<template>` into `dir` as `init --template <template>`
 * does (depending on this package's version range, as a real init would),
 * then runs `gen` there. Files other than node_modules/ and .sessionstream/
 * already in `dir` are removed first, so nothing stale survives.
 */
export async function writeExample(template: string, dir: string): Promise<void> {
  if (existsSync(dir)) {
    for (const entry of readdirSync(dir)) if (!IGNORED.has(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
  }
  initProject({ dir, template, force: true });
  const gen = await runGen({ projectDir: dir });
  if (gen.exitCode !== 0) throw new Error(`gen failed in ${dir}:\n${gen.errors.join("\n")}`);
}

/** Relative paths of every file under `dir`, skipping node_modules/ and .sessionstream/. */
export function listFiles(dir: string, sub = ""): string[] {
  if (!existsSync(join(dir, sub))) return [];
  return readdirSync(join(dir, sub))
    .filter((e) => !IGNORED.has(e))
    .flatMap((e) => (statSync(join(dir, sub, e)).isDirectory() ? listFiles(dir, join(sub, e)) : [join(sub, e)]))
    .sort();
}

/** The differences between two trees: files only in one, and files whose contents differ. */
export function diffTrees(expected: string, actual: string): string[] {
  const a = listFiles(expected);
  const b = listFiles(actual);
  const diffs: string[] = [];
  for (const f of a) if (!b.includes(f)) diffs.push(`missing: ${f}`);
  for (const f of b) if (!a.includes(f)) diffs.push(`extra:   ${f}`);
  for (const f of a) {
    if (b.includes(f) && !readFileSync(join(expected, f)).equals(readFileSync(join(actual, f)))) diffs.push(`differs: ${f}`);
  }
  return diffs;
}

/** Regenerates `template` into a temp folder and returns how examples/<template> differs from it. */
export async function checkExample(template: string): Promise<string[]> {
  const tmp = mkdtempSync(join(tmpdir(), `ss-example-${template}-`));
  try {
    const fresh = join(tmp, template);
    await writeExample(template, fresh);
    return diffTrees(fresh, join(EXAMPLES_DIR, template));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  for (const template of templateNames()) {
    const dir = join(EXAMPLES_DIR, template);
    await writeExample(template, dir);
    console.log(`examples/${template}: ${listFiles(dir).length} files (${relative(REPO, dir)})`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
