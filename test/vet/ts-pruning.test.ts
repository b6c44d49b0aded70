import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vetTypeScript, type TypeScriptVetResult } from "../../src/vet/ts/vet-typescript.js";

// The program loads only the imports a candidate's registration calls can depend on
// (needed-imports.ts). These cases are what a naive cut would break.
describe("no-top-level-struct loads only what registrations depend on", () => {
  let dir: string;
  let result: TypeScriptVetResult;
  let loaded: string[];
  const files: Record<string, string> = {
    // Ordinary code the candidates import: never needed by a registration.
    "other.ts": `export function total(xs: number[]): number { return xs.length; }\n`,
    "wkt-again.ts": `export { StructSchema } from "@bufbuild/protobuf/wkt";\n`,
    // Struct renamed, held in a const, returned by a function, registered through a chain.
    "renamed.ts": [
      `import { StructSchema as S } from "@bufbuild/protobuf/wkt";`,
      `import { SchemaRegistry } from "sessionstream";`,
      `import { total } from "./other.js";`,
      `const held = S;`,
      `function pick() { return held; }`,
      `export const count = total([1, 2]);`,
      `export const reg = new SchemaRegistry().registerEvent("X", pick());`,
    ].join("\n"),
    // A candidate whose export another candidate uses: its re-export must be followed.
    "registry.ts": [
      `import { SchemaRegistry } from "sessionstream";`,
      `import { TimestampSchema } from "@bufbuild/protobuf/wkt";`,
      `export const base = new SchemaRegistry().registerEvent("A", TimestampSchema);`,
      `export { StructSchema as Loose } from "./wkt-again.js";`,
    ].join("\n"),
    "app.ts": [`import { base, Loose } from "./registry.js";`, `import { total } from "./other.js";`, `total([]);`, `base.registerCommand("B", Loose);`].join("\n"),
    // A registry handed to a helper defined elsewhere, with the schema passed as a variable.
    "helper.ts": [
      `import type { SchemaRegistry } from "sessionstream";`,
      `import type { GenMessage } from "@bufbuild/protobuf/codegenv2";`,
      `import type { Struct } from "@bufbuild/protobuf/wkt";`,
      `export function addLoose(reg: SchemaRegistry, schema: GenMessage<Struct>) { return reg.registerUIEvent("L", schema); }`,
    ].join("\n"),
    "uses-helper.ts": [
      `import { SchemaRegistry } from "sessionstream";`,
      `import { StructSchema as Payload } from "@bufbuild/protobuf/wkt";`,
      `import { addLoose } from "./helper.js";`,
      `addLoose(new SchemaRegistry(), Payload);`,
    ].join("\n"),
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vet-pruning-"));
    mkdirSync(join(dir, "node_modules", "@bufbuild"), { recursive: true });
    symlinkSync(resolve("."), join(dir, "node_modules", "sessionstream"), "dir");
    symlinkSync(resolve("node_modules/@bufbuild/protobuf"), join(dir, "node_modules", "@bufbuild", "protobuf"), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "user-app", type: "module" }));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true }, include: ["*.ts"] }),
    );
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text + "\n");
    const cacheDir = join(dir, "cache");
    result = vetTypeScript({ kind: "tsconfig", tsconfig: join(dir, "tsconfig.json") }, { cacheDir });
    const cache = JSON.parse(readFileSync(join(cacheDir, "schema-vet.json"), "utf8")) as { groups: Record<string, { files: Record<string, string> }> };
    loaded = Object.values(cache.groups).flatMap((g) => Object.keys(g.files)).filter((f) => f.startsWith(dir));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds every Struct registration, through renames, consts, functions, another candidate's re-export and a helper's parameter", () => {
    expect(result.findings.map((f) => `${f.file.slice(dir.length + 1)}:${f.range?.line}:${f.range?.column} ${f.ruleId}`).sort()).toEqual([
      "app.ts:4:27 no-top-level-struct",
      "helper.ts:4:109 no-top-level-struct",
      "renamed.ts:7:60 no-top-level-struct",
    ]);
    // uses-helper.ts names no registration method: not a candidate, and nothing imports it.
    expect(result.filesResolved).toBe(4);
  });

  it("does not load the ordinary code the candidates import", () => {
    expect(loaded.map((f) => f.slice(dir.length + 1)).sort()).toEqual(["app.ts", "helper.ts", "registry.ts", "renamed.ts", "wkt-again.ts"]);
  });
});
