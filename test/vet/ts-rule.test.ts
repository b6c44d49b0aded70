import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchemaVet, type SchemaVetResult } from "../../src/vet/run-vet.js";
import { vetTypeScript } from "../../src/vet/ts/vet-typescript.js";
import { byPosition, expectedMarkers } from "./markers.js";

const project = resolve("fixtures/vet/ts-project");

describe("no-top-level-struct in TypeScript (sessionstream resolved through tsconfig paths)", () => {
  let result: SchemaVetResult;
  beforeAll(async () => {
    // One program for the whole file: project mode, ./tsconfig.json of the fixture.
    result = await runSchemaVet({ cwd: project });
  });

  it("flags every evasion form at the schema argument, and nothing else", () => {
    const expected = expectedMarkers(join(project, "src"), [".ts"]);
    expect(expected.length).toBe(10);
    const actual = result.diagnostics.map((d) => ({ file: d.file, line: d.range?.line ?? 0, ruleId: d.ruleId, column: d.range?.column }));
    expect(actual.sort(byPosition)).toEqual(expected);
    expect(result.diagnostics.every((d) => d.severity === "error" && !d.fatal)).toBe(true);
  });

  it("names the family and the well-known type", () => {
    const messages = result.diagnostics.map((d) => d.message);
    expect(messages).toContain("registerEvent() registers google.protobuf.ListValue as a top-level event payload: untyped JSON bypasses the schema");
    expect(messages.some((m) => m.startsWith("registerUIEvent() registers google.protobuf.Value as a top-level UI event"))).toBe(true);
  });

  it("reports none of the false-positive traps", () => {
    expect(result.diagnostics.filter((d) => d.file.includes("/traps/") || d.file.includes("/lookalike/"))).toEqual([]);
  });

  it("honours the suppression comment (and counts it)", () => {
    expect(result.diagnostics.filter((d) => d.file.endsWith("suppressed.ts"))).toEqual([]);
    expect(result.suppressedCount).toBe(1);
    expect(result.exitCode).toBe(1);
  });

  it("type-resolves only files that can contain a registration", () => {
    // src/plain.ts and the barrel/lookalike/local-struct files never mention a registration method.
    expect(result.files.typescript).toBe(12);
    expect(result.files.typescriptResolved).toBe(8);
  });

  it("checks explicit files with the nearest tsconfig.json", async () => {
    const only = await runSchemaVet({ cwd: resolve("."), paths: [join(project, "src/evasions/chained.ts")] });
    expect(only.diagnostics.map((d) => [d.range?.line, d.range?.column])).toEqual([
      [8, 27],
      [9, 35],
    ]);
  });
});

describe("no-top-level-struct with sessionstream installed in node_modules", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "vet-node-modules-"));
    const registryDts = [
      `import type { DescMessage } from "@bufbuild/protobuf";`,
      `export declare class SchemaRegistry {`,
      ...["registerCommand", "registerEvent", "registerUIEvent", "registerTimelineEntity"].map(
        (m) => `  ${m}<N extends string, D extends DescMessage>(name: N, schema: D): SchemaRegistry;`,
      ),
      `}`,
    ].join("\n");
    for (const name of ["sessionstream", "not-sessionstream"]) {
      mkdirSync(join(dir, "node_modules", name, "dist", "runtime"), { recursive: true });
      writeFileSync(join(dir, "node_modules", name, "package.json"), JSON.stringify({ name, type: "module", types: "./dist/index.d.ts" }));
      writeFileSync(join(dir, "node_modules", name, "dist", "index.d.ts"), `export { SchemaRegistry } from "./runtime/registry.js";\n`);
      writeFileSync(join(dir, "node_modules", name, "dist", "runtime", "registry.d.ts"), registryDts);
    }
    mkdirSync(join(dir, "node_modules", "@bufbuild"));
    symlinkSync(resolve("node_modules/@bufbuild/protobuf"), join(dir, "node_modules", "@bufbuild", "protobuf"), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "user-app", type: "module" }));
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true }, include: ["*.ts"] }),
    );
    writeFileSync(
      join(dir, "app.ts"),
      [
        `import { SchemaRegistry } from "sessionstream";`,
        `import { SchemaRegistry as Other } from "not-sessionstream";`,
        `import { StructSchema } from "@bufbuild/protobuf/wkt";`,
        `new SchemaRegistry().registerCommand("A", StructSchema);`,
        `new Other().registerCommand("B", StructSchema);`,
      ].join("\n"),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("flags the package's registry and not a look-alike package", () => {
    const result = vetTypeScript({ kind: "tsconfig", tsconfig: join(dir, "tsconfig.json") });
    expect(result.findings.map((f) => [f.ruleId, f.range?.line, f.range?.column])).toEqual([["no-top-level-struct", 4, 43]]);
  });
});
