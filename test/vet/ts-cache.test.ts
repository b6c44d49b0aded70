import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { schemaVet } from "../../src/cli/commands/schema-vet.js";
import { runSchemaVet, type SchemaVetResult } from "../../src/vet/run-vet.js";

// A user project with `sessionstream` (a stand-in declaration file) in node_modules:
// app.ts registers a schema it imports from schemas.ts, which never mentions a
// registration method (so the pre-filter does not pick it) but decides the finding.
const REGISTRY_DTS = [
  `import type { DescMessage } from "@bufbuild/protobuf";`,
  `export declare class SchemaRegistry {`,
  ...["registerCommand", "registerEvent", "registerUIEvent", "registerTimelineEntity"].map(
    (m) => `  ${m}<N extends string, D extends DescMessage>(name: N, schema: D): SchemaRegistry;`,
  ),
  `}`,
].join("\n");

let dir: string;
let cacheDir: string;

function write(file: string, text: string): void {
  writeFileSync(join(dir, file), text);
}

async function vet(): Promise<SchemaVetResult> {
  return runSchemaVet({ cwd: dir, cacheDir });
}

function positions(result: SchemaVetResult): string[] {
  return result.diagnostics.map((d) => `${d.file.slice(dir.length + 1)}:${d.range?.line}:${d.range?.column} ${d.ruleId} ${d.message}`);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vet-cache-"));
  cacheDir = join(dir, "node_modules", ".cache", "sessionstream");
  const pkg = join(dir, "node_modules", "sessionstream");
  mkdirSync(join(pkg, "dist"), { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "sessionstream", type: "module", types: "./dist/index.d.ts" }));
  writeFileSync(join(pkg, "dist", "index.d.ts"), REGISTRY_DTS);
  mkdirSync(join(dir, "node_modules", "@bufbuild"));
  symlinkSync(resolve("node_modules/@bufbuild/protobuf"), join(dir, "node_modules", "@bufbuild", "protobuf"), "dir");
  write("package.json", JSON.stringify({ name: "user-app", type: "module" }));
  write("tsconfig.json", JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true }, include: ["*.ts"] }));
  write("schemas.ts", `import { StructSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";\nexport const Payload = StructSchema;\nexport const Stamp = TimestampSchema;\n`);
  write("app.ts", `import { SchemaRegistry } from "sessionstream";\nimport { Payload as P } from "./schemas.js";\nexport const reg = new SchemaRegistry().registerEvent("A", P);\n`);
  write("plain.ts", `export const answer = 42;\n`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("schema-vet's on-disk cache of TypeScript results", () => {
  it("a second run over unchanged files reuses the results: identical diagnostics, no program built", async () => {
    const cold = await vet();
    expect(positions(cold)).toEqual([
      "app.ts:3:60 no-top-level-struct registerEvent() registers google.protobuf.Struct as a top-level event payload: untyped JSON bypasses the schema",
    ]);
    expect(cold.files).toEqual({ typescript: 3, typescriptResolved: 1, proto: 0 });
    expect(existsSync(join(cacheDir, "schema-vet.json"))).toBe(true);

    const warm = await vet();
    expect(warm.diagnostics).toEqual(cold.diagnostics);
    expect(warm.exitCode).toBe(cold.exitCode);
    expect(warm.files).toEqual({ typescript: 3, typescriptResolved: 1, typescriptFromCache: 1, proto: 0 });
  });

  it("editing a file a candidate imports (not itself a candidate) invalidates", async () => {
    expect(positions(await vet())).toHaveLength(1);
    write("schemas.ts", `import { StructSchema, TimestampSchema } from "@bufbuild/protobuf/wkt";\nexport const Payload = TimestampSchema;\nexport const Stamp = StructSchema;\n`);
    const edited = await vet();
    expect(edited.diagnostics).toEqual([]);
    expect(edited.files.typescriptFromCache).toBeUndefined();
    // And the new result is cached in turn.
    expect((await vet()).files.typescriptFromCache).toBe(1);
  });

  it("editing the candidate itself invalidates", async () => {
    await vet();
    write("app.ts", `import { SchemaRegistry } from "sessionstream";\nimport { Payload as P, Stamp } from "./schemas.js";\n\nexport const reg = new SchemaRegistry().registerEvent("A", Stamp).registerCommand("B", P);\n`);
    const edited = await vet();
    expect(edited.files.typescriptFromCache).toBeUndefined();
    expect(positions(edited)).toEqual([
      "app.ts:4:88 no-top-level-struct registerCommand() registers google.protobuf.Struct as a top-level command payload: untyped JSON bypasses the schema",
    ]);
  });

  it("editing a declaration file in node_modules the program loaded invalidates", async () => {
    expect(positions(await vet())).toHaveLength(1);
    // sessionstream's registry is no longer a class named SchemaRegistry: nothing to flag.
    writeFileSync(join(dir, "node_modules", "sessionstream", "dist", "index.d.ts"), REGISTRY_DTS.replace("class SchemaRegistry {", "class SchemaRegistry extends Base {}\ndeclare class Base {"));
    const edited = await vet();
    expect(edited.files.typescriptFromCache).toBeUndefined();
    expect(edited.diagnostics).toEqual([]);
  });

  it("a new file that registers is vetted (the set of files is part of the key)", async () => {
    await vet();
    write("more.ts", `import { SchemaRegistry } from "sessionstream";\nimport { ValueSchema } from "@bufbuild/protobuf/wkt";\nnew SchemaRegistry().registerUIEvent("V", ValueSchema);\n`);
    const result = await vet();
    expect(result.files.typescriptFromCache).toBeUndefined();
    expect(positions(result).map((p) => p.split(" ")[0])).toEqual(["app.ts:3:60", "more.ts:3:43"]);
  });

  it("a corrupt or foreign cache file is ignored (no crash, same diagnostics) and replaced", async () => {
    const clean = await vet();
    for (const text of ["{not json", "null", JSON.stringify({ format: 1, tool: "x", groups: [] }), "\u0000\u0001garbage"]) {
      writeFileSync(join(cacheDir, "schema-vet.json"), text);
      const result = await vet();
      expect(result.diagnostics).toEqual(clean.diagnostics);
      expect(result.files.typescriptFromCache).toBeUndefined();
      expect(() => JSON.parse(readFileSync(join(cacheDir, "schema-vet.json"), "utf8")) as unknown).not.toThrow();
    }
    // Right format and tool, but a group entry of the wrong shape: dropped, not trusted.
    const file = JSON.parse(readFileSync(join(cacheDir, "schema-vet.json"), "utf8")) as { groups: Record<string, unknown> };
    for (const key of Object.keys(file.groups)) file.groups[key] = { candidates: [join(dir, "app.ts")], files: {}, findings: "none" };
    writeFileSync(join(cacheDir, "schema-vet.json"), JSON.stringify(file));
    const result = await vet();
    expect(result.diagnostics).toEqual(clean.diagnostics);
    expect(result.files.typescriptFromCache).toBeUndefined();
  });

  it("an unwritable cache folder only costs the cache", async () => {
    // A file where the folder should be: mkdir fails, the run does not.
    cacheDir = join(dir, "plain.ts", "cache");
    const result = await vet();
    expect(positions(result)).toHaveLength(1);
    expect((await vet()).files.typescriptFromCache).toBeUndefined();
  });

  it("the CLI caches under ./node_modules/.cache/sessionstream by default; --no-cache neither reads nor writes it", async () => {
    const noCache = await schemaVet({ cwd: dir, paths: [], cache: false, format: "json" });
    expect(noCache.exitCode).toBe(1);
    expect(existsSync(join(cacheDir, "schema-vet.json"))).toBe(false);

    const first = await schemaVet({ cwd: dir, paths: [], format: "json" });
    expect(existsSync(join(cacheDir, "schema-vet.json"))).toBe(true);
    const second = await schemaVet({ cwd: dir, paths: [], format: "json" });
    expect(second.result?.files.typescriptFromCache).toBe(1);
    // Same report, byte for byte, with or without the cache.
    expect(second.stdout).toBe(first.stdout);
    expect(noCache.stdout).toBe(first.stdout);

    const again = await schemaVet({ cwd: dir, paths: [], cache: false, format: "json" });
    expect(again.result?.files.typescriptFromCache).toBeUndefined();
    expect(again.stdout).toBe(first.stdout);
  });

  it("the CLI does not create node_modules for its cache", async () => {
    const bare = mkdtempSync(join(tmpdir(), "vet-cache-bare-"));
    try {
      writeFileSync(join(bare, "a.ts"), `export const registerEvent = 1;\n`);
      const out = await schemaVet({ cwd: bare, paths: ["a.ts"] });
      expect(out.exitCode).toBe(0);
      expect(existsSync(join(bare, "node_modules"))).toBe(false);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
