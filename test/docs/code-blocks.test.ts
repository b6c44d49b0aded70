// Every code block marked `ts program` (or `tsx program`: JSX, for React) in
// the README and docs/ is a complete program: extracted and type-checked
// (TypeScript's compiler, strict, Node ESM) against this checkout's sources, so the docs never drift from the API.
// The README's quick start imports `./gen/chat/v1/chat_pb.js`: the fixtures'
// protoc-gen-es output is linked there. A block opened with `ts program
// file=NAME.ts` is written as NAME.ts beside the other blocks of its doc, which
// import it as `./NAME.js` (docs/express.md: the app module, then a server using it).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, test } from "vitest";

const repo = join(import.meta.dirname, "..", "..");
const tmp = mkdtempSync(join(repo, ".tmp-docs-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Block {
  readonly file: string;
  readonly line: number;
  readonly code: string;
  /** `tsx` for `tsx program` blocks (JSX, React's automatic runtime). */
  readonly ext: "ts" | "tsx";
  /** `NAME` of a block opened with ```` ```ts program file=NAME ````: the doc's other blocks import it as `./NAME` (`.js`). */
  readonly name?: string;
}

/** The `ts program` and `tsx program` blocks of a markdown text. */
export function programBlocks(file: string, text: string): Block[] {
  const out: Block[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(tsx?) program(?:\s+file=([\w.-]+\.tsx?))?\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    out.push({ file, line: start + 1, code: lines.slice(start, end).join("\n") + "\n", ext: open[1] as Block["ext"], ...(open[2] ? { name: open[2] } : {}) });
    i = end;
  }
  return out;
}

/** `sessionstream` and its subpath exports mapped to the sources (the published types are built from them). */
function selfPaths(): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { exports: Record<string, { types?: string } | string> };
  const paths: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(pkg.exports)) {
    const types = typeof value === "string" ? undefined : value.types;
    if (!types || key.includes("*")) continue;
    paths[key === "." ? "sessionstream" : `sessionstream/${key.slice(2)}`] = [join(repo, types.replace(/^\.\/dist\//, "src/").replace(/\.d\.ts$/, ".ts"))];
  }
  return paths;
}

/** Type-checks blocks as separate ES modules; returns `file:line: message` per error. */
function typeCheck(blocks: readonly Block[], dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  // Each doc's blocks in a folder of their own, so that a `file=NAME` block is what its doc's blocks import.
  const folders = new Map<string, string>();
  const files = blocks.map((b, i) => {
    let folder = folders.get(b.file);
    if (folder === undefined) {
      folder = join(dir, `doc-${folders.size}`);
      mkdirSync(folder);
      symlinkSync(join(repo, "fixtures/runtime/gen"), join(folder, "gen"));
      folders.set(b.file, folder);
    }
    const name = join(folder, b.name ?? `block-${i}.${b.ext}`);
    writeFileSync(name, b.code);
    return name;
  });
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    strict: true,
    exactOptionalPropertyTypes: true,
    verbatimModuleSyntax: true,
    skipLibCheck: true,
    noEmit: true,
    jsx: ts.JsxEmit.ReactJSX,
    types: ["node"],
    typeRoots: [join(repo, "node_modules/@types")],
    paths: selfPaths(),
  };
  const program = ts.createProgram(files, options);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.includes(d.file.fileName))
    .map((d) => {
      const block = blocks[files.indexOf(d.file!.fileName)]!;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${block.file}:${block.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
}

const sources = ["README.md", ...readdirSync(join(repo, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const blocks = sources.flatMap((f) => programBlocks(f, readFileSync(join(repo, f), "utf8")));

describe("complete programs in the docs", () => {
  test("there are some: the README quick start and the docs' examples", () => {
    const files = new Set(blocks.map((b) => b.file));
    expect(files).toContain("README.md");
    expect(files).toContain("docs/testing.md");
    expect(files).toContain("docs/concepts.md");
  });

  test("every `ts program` block type-checks against the current API", () => {
    expect(typeCheck(blocks, join(tmp, "docs"))).toEqual([]);
  }, 120_000);

  test("a block that misuses the API is reported with its file and line", () => {
    const md = ["# t", "", "```ts program", 'import { Hub } from "sessionstream";', "const hub: Hub = new Hub({});", "```", ""].join("\n");
    const errors = typeCheck(programBlocks("docs/bad.md", md), join(tmp, "bad"));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/^docs\/bad\.md:5: [\s\S]*registry/);
    expect(relative(repo, tmp)).toMatch(/^\.tmp-docs-/);
  }, 120_000);

  test("a `file=NAME` block is a module the other blocks of its doc import as ./NAME.js; names do not collide across docs", () => {
    const lib = (value: string) => ["```ts program file=lib.ts", `export const value = ${value};`, "```"];
    const a = programBlocks("docs/a.md", [...lib("1"), "", "```ts program", 'import { value } from "./lib.js";', "export const n: number = value;", "```", ""].join("\n"));
    const b = programBlocks("docs/b.md", [...lib('"one"'), "", "```ts program", 'import { value } from "./lib.js";', "export const n: number = value;", "```", ""].join("\n"));
    expect(a.map((x) => x.name)).toEqual(["lib.ts", undefined]);
    const errors = typeCheck([...a, ...b], join(tmp, "named"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^docs\/b\.md:7: [\s\S]*string[\s\S]*number/);
  }, 120_000);

  test("a `tsx program` block is checked as TSX: a wrong prop type in JSX is reported", () => {
    const md = ["```tsx program", "function Hello(props: { name: string }) {", "  return <p>{props.name}</p>;", "}", "export const ok = <Hello name=\"a\" />;", "export const bad = <Hello name={1} />;", "```", ""].join("\n");
    const blocks = programBlocks("docs/jsx.md", md);
    expect(blocks.map((b) => b.ext)).toEqual(["tsx"]);
    const errors = typeCheck(blocks, join(tmp, "jsx"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^docs\/jsx\.md:6: [\s\S]*number[\s\S]*string/);
  }, 120_000);
});
