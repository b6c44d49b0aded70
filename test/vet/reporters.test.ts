import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Ajv } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { codeFrame } from "../../src/vet/reporters/code-frame.js";
import { formatHuman, summaryLine } from "../../src/vet/reporters/human.js";
import { toJsonReport } from "../../src/vet/reporters/json.js";
import { JSON_REPORT_SCHEMA } from "../../src/vet/reporters/json-schema.js";
import { toSarif } from "../../src/vet/reporters/sarif.js";
import { runSchemaVet, type SchemaVetResult } from "../../src/vet/run-vet.js";
import { RULES } from "../../src/vet/rules.js";

// ajv-formats is CommonJS: its default export arrives as the module namespace under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv | Ajv2020) => void;

const protoCases = resolve("fixtures/vet/proto");

describe("reporters", () => {
  let mixed: SchemaVetResult;
  let broken: SchemaVetResult;
  beforeAll(async () => {
    // Errors and warnings from protos, plus the broken TypeScript project (a fatal parse error and a finding).
    mixed = await runSchemaVet({ cwd: protoCases, paths: ["unknown-projection-target"] });
    broken = await runSchemaVet({ cwd: resolve("fixtures/vet/ts-broken") });
  }, 60_000);

  it("JSON output validates against the documented schema", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    const validate = ajv.compile(JSON_REPORT_SCHEMA);
    for (const result of [mixed, broken]) {
      const report = JSON.parse(JSON.stringify(toJsonReport(result, "0.1.0")));
      expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    }
    const report = toJsonReport(mixed, "0.1.0");
    expect(report.summary).toEqual({
      errors: 2,
      warnings: 1,
      suppressed: 0,
      files: { typescript: 0, typescriptResolved: 0, proto: 1 },
      maxWarnings: null,
      exitCode: 1,
    });
    expect(report.diagnostics.find((d) => d.ruleId === "live-only-ui-event")).toEqual({
      file: "unknown-projection-target/app/v1/app.proto",
      line: 32,
      column: 10,
      endLine: 32,
      endColumn: 65,
      severity: "warning",
      ruleId: "live-only-ui-event",
      message: 'event "TypingEvent" declares UI events (ItemChanged) but no timeline entity: a reload loses the state they built',
      fix: RULES.find((r) => r.id === "live-only-ui-event")?.fix,
      fatal: false,
    });
  });

  it("SARIF output validates against the SARIF 2.1.0 schema subset and lists every rule", () => {
    const schema = JSON.parse(readFileSync(resolve("fixtures/vet/schemas/sarif-2.1.0-subset.schema.json"), "utf8"));
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    for (const result of [mixed, broken]) {
      const sarif = JSON.parse(JSON.stringify(toSarif(result, "0.1.0")));
      expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
    }
    const sarif = toSarif(broken, "0.1.0") as { runs: Array<{ tool: { driver: { rules: Array<{ id: string }> } }; results: unknown[]; invocations: unknown[] }> };
    const run = sarif.runs[0];
    expect(run?.tool.driver.rules.map((r) => r.id)).toEqual(RULES.map((r) => r.id));
    expect(run?.invocations).toEqual([{ executionSuccessful: false, exitCode: 2 }]);
    expect(run?.results).toContainEqual({
      ruleId: "no-top-level-struct",
      ruleIndex: 0,
      level: "error",
      message: { text: "registerEvent() registers google.protobuf.Value as a top-level event payload: untyped JSON bypasses the schema" },
      locations: [
        { physicalLocation: { artifactLocation: { uri: "src/fine.ts", uriBaseId: "%SRCROOT%" }, region: { startLine: 5, startColumn: 64, endLine: 5, endColumn: 75 } } },
      ],
    });
  });

  it("human output: path:line:col  severity  rule-id  message, a code frame, a summary", () => {
    const text = formatHuman(broken);
    expect(text).toContain(
      [
        "src/fine.ts:5:64  error  no-top-level-struct  registerEvent() registers google.protobuf.Value as a top-level event payload: untyped JSON bypasses the schema",
        '  5 | export const reg = new SchemaRegistry().registerEvent("Loose", ValueSchema); // <- no-top-level-struct',
        "    |                                                                ^^^^^^^^^^^",
      ].join("\n"),
    );
    expect(text).toMatch(/^src\/broken\.ts:4:\d+ {2}error {2}ts-parse-error {2}'\)' expected\.$/m);
    expect(text.trimEnd().split("\n").at(-1)).toBe("schema-vet: 3 errors, 0 warnings in 2 TypeScript files (2 type-resolved) and 0 proto files");
  });

  it("the summary names a --max-warnings overflow", () => {
    expect(summaryLine({ ...mixed, maxWarnings: 0 })).toBe(
      "schema-vet: 2 errors, 1 warning in 0 TypeScript files (0 type-resolved) and 1 proto file; 1 warnings exceed --max-warnings 0",
    );
  });

  it("code frames point at the range", () => {
    expect(codeFrame("a\n\tfoo(bar)\n", { line: 2, column: 6, endLine: 2, endColumn: 9 })).toBe("  2 | \tfoo(bar)\n    | \t    ^^^");
    expect(codeFrame("x", { line: 3, column: 1, endLine: 3, endColumn: 1 })).toBe("");
  });

  it("paths in reports are relative to the working directory", () => {
    expect(toJsonReport(mixed, "0").diagnostics.every((d) => !d.file.startsWith("/") && d.file.includes("/app/v1/"))).toBe(true);
    expect(join(protoCases, toJsonReport(mixed, "0").diagnostics[0]?.file ?? "")).toMatch(/app\.proto$/);
  });
});
