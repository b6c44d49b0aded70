import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseVetConfig } from "../../src/vet/config.js";
import { runSchemaVet } from "../../src/vet/run-vet.js";
import { isSuppressed, parseSuppressions } from "../../src/vet/suppressions.js";

describe("suppression comments", () => {
  it("apply to the next line, for the listed rules or all", () => {
    const map = parseSuppressions(
      [
        "// sessionstream-vet-disable-next-line no-top-level-struct, duplicate-name -- why",
        "a",
        "/* sessionstream-vet-disable-next-line */",
        "b",
        "c",
      ].join("\n"),
    );
    expect(isSuppressed(map, "no-top-level-struct", [2])).toBe(true);
    expect(isSuppressed(map, "duplicate-name", [2])).toBe(true);
    expect(isSuppressed(map, "timeline-id-field", [2])).toBe(false);
    expect(isSuppressed(map, "timeline-id-field", [4])).toBe(true);
    expect(isSuppressed(map, "no-top-level-struct", [5])).toBe(false);
  });
});

describe("sessionstream.config.json", () => {
  it("reads schemaVet.rules and rejects unknown rules, bad settings and fatal rules", () => {
    const ok = parseVetConfig({ gen: { out: "x" }, schemaVet: { rules: { "live-only-ui-event": "off", "duplicate-name": "warn" } } }, "/p/c.json");
    expect(ok.problems).toEqual([]);
    expect([...ok.config.rules]).toEqual([
      ["live-only-ui-event", "off"],
      ["duplicate-name", "warn"],
    ]);
    const bad = parseVetConfig({ schemaVet: { rules: { nope: "off", "duplicate-name": "loud", "ts-parse-error": "off" } } }, "/p/c.json");
    expect(bad.problems).toEqual([
      '/p/c.json: unknown rule "nope" in schemaVet.rules',
      '/p/c.json: schemaVet.rules["duplicate-name"] must be "off", "warn" or "error", got "loud"',
      '/p/c.json: rule "ts-parse-error" reports unreadable input and cannot be configured',
    ]);
  });

  it("takes proto roots from schemaVet.protoRoots, else the shared top-level protoRoots", () => {
    expect(parseVetConfig({ protoRoots: ["schemas"] }, "/p/c.json").config.protoRoots).toEqual(["/p/schemas"]);
    expect(parseVetConfig({ protoRoots: ["a"], schemaVet: { protoRoots: ["b"] } }, "/p/c.json").config.protoRoots).toEqual(["/p/b"]);
  });

  describe("in a project", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "vet-config-"));
      cpSync(resolve("fixtures/vet/proto/live-only-ui-event"), join(dir, "proto"), { recursive: true });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const withConfig = (json: unknown): void => writeFileSync(join(dir, "sessionstream.config.json"), JSON.stringify(json));

    it("with no args checks ./proto; a warning alone exits 0, over --max-warnings exits 1", async () => {
      withConfig({});
      const plain = await runSchemaVet({ cwd: dir });
      expect(plain.diagnostics.map((d) => [d.ruleId, d.severity])).toEqual([["live-only-ui-event", "warning"]]);
      expect(plain.exitCode).toBe(0);
      expect((await runSchemaVet({ cwd: dir, maxWarnings: 0 })).exitCode).toBe(1);
      expect((await runSchemaVet({ cwd: dir, maxWarnings: 1 })).exitCode).toBe(0);
    });

    it("a rule set to error fails the run; off silences it", async () => {
      withConfig({ schemaVet: { rules: { "live-only-ui-event": "error" } } });
      const strict = await runSchemaVet({ cwd: dir });
      expect(strict.diagnostics.map((d) => d.severity)).toEqual(["error"]);
      expect(strict.exitCode).toBe(1);
      withConfig({ schemaVet: { rules: { "live-only-ui-event": "off" } } });
      const off = await runSchemaVet({ cwd: dir });
      expect(off.diagnostics).toEqual([]);
      expect(off.exitCode).toBe(0);
    });

    it("an invalid config is reported with exit 2 and the protos are still checked", async () => {
      writeFileSync(join(dir, "sessionstream.config.json"), "{ not json");
      const result = await runSchemaVet({ cwd: dir });
      expect(result.diagnostics.map((d) => [d.ruleId, d.fatal])).toEqual([
        ["live-only-ui-event", false],
        ["config-error", true],
      ]);
      expect(result.exitCode).toBe(2);
    });
  });
});
