// schema-vet --against: fixture pairs (baseline, change) for every evolution
// rule, positive and negative, plus the three kinds of baseline (folder, git
// ref, buf image), the reporters, config severities and suppressions.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schemaVet } from "../../src/cli/commands/schema-vet.js";
import { bundledBufPath } from "../../src/codegen/compile-protos.js";
import { runSchemaVet, type SchemaVetResult } from "../../src/vet/run-vet.js";
import { byPosition, expectedMarkers } from "./markers.js";

const base = resolve("fixtures/vet/evolve");
const CASES = readdirSync(base).filter((d) => !d.includes("."));
const temps: string[] = [];
afterAll(() => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), "ss-evolve-"));
  temps.push(dir);
  return dir;
}

describe("schema-vet --against: fixture pairs", () => {
  const results = new Map<string, SchemaVetResult>();
  beforeAll(async () => {
    await Promise.all(
      CASES.map(async (c) => results.set(c, await runSchemaVet({ cwd: join(base, c, "change"), paths: ["."], against: "../baseline" }))),
    );
  }, 240_000);

  it("covers every evolution rule with a positive and a negative case", () => {
    expect(CASES).toEqual(
      expect.arrayContaining([
        "compatible-ok",
        "renumber",
        "type-change",
        "removed-field",
        "removed-field-reserved-ok",
        "message-rename",
        "message-rename-kept-ok",
        "event-name-removed",
        "event-name-retired-ok",
        "ui-json-name",
        "ui-json-compatible-ok",
        "id-field-change",
      ]),
    );
  });

  it.each(CASES)("%s: exactly the marked lines are reported", (c) => {
    const result = results.get(c)!;
    const expected = expectedMarkers(join(base, c, "change"), [".proto"]).map(({ file, line, ruleId }) => ({ file, line, ruleId }));
    if (c === "event-name-removed") {
      // The whole FinishedEvent message is gone: reported on its former file, without a position.
      expected.push({ file: join(base, c, "change/app/v1/app.proto"), line: 0, ruleId: "persisted-name-removed" });
    }
    const actual = result.diagnostics.map((d) => ({ file: d.file, line: d.range?.line ?? 0, ruleId: d.ruleId }));
    expect(actual.sort(byPosition)).toEqual(expected.sort(byPosition));
    if (c.endsWith("-ok")) expect(result.exitCode).toBe(0);
    else expect(expected.length).toBeGreaterThan(0);
  });

  it("persisted breaks are errors (exit 1), JSON breaks on UI events and commands are warnings (exit 0)", () => {
    for (const c of ["renumber", "type-change", "removed-field", "message-rename", "event-name-removed", "id-field-change"]) {
      const r = results.get(c)!;
      expect(r.diagnostics.every((d) => d.severity === "error"), c).toBe(true);
      expect(r.exitCode, c).toBe(1);
    }
    const ui = results.get("ui-json-name")!;
    expect(ui.diagnostics.map((d) => d.severity)).toEqual(["warning", "warning", "warning"]);
    expect(ui.exitCode).toBe(0);
  });

  it("messages name the change, the role that makes it matter, buf's rule and the fix", () => {
    const [chunk, usage] = results.get("type-change")!.diagnostics;
    expect(chunk?.message).toBe(
      'Field "2" with name "chunk" on message "TokensDeltaEvent" changed type from "string" to "int64". Event "ChatTokensDelta" is stored as protobuf binary: rows written before this change no longer decode as written [buf FIELD_WIRE_COMPATIBLE_TYPE, against folder ../baseline]',
    );
    expect(chunk?.range).toMatchObject({ line: 20, column: 3 });
    expect(usage?.message).toContain('Event "ChatFinished" (through app.v1.Usage) is stored as protobuf binary');
    const renamed = results.get("message-rename")!.diagnostics[0];
    expect(renamed?.message).toContain("stored rows carry the type name app.v1.TokensDeltaEvent, and app.v1.TokensDeltaEvent no longer exists");
    const removed = results.get("event-name-removed")!.diagnostics.find((d) => d.message.startsWith('event "ChatTokensDelta"'));
    expect(removed?.message).toContain('retired_names: "ChatTokensDelta"');
    const json = results.get("ui-json-name")!.diagnostics.map((d) => d.message);
    expect(json[0]).toContain('Command "ChatStart" (through app.v1.Mode) travels as protobuf JSON');
    // A renamed field breaks two of buf's rules at one place: one finding naming both.
    expect(json[1]).toBe(
      'Field "1" with name "id" on message "ChatMessageUpdate" changed option "json_name" from "messageId" to "id". Field "1" on message "ChatMessageUpdate" changed name from "message_id" to "id". UI event "ChatMessageAppended" travels as protobuf JSON: open tabs and API clients built against the old schema misread it [buf FIELD_SAME_JSON_NAME, FIELD_SAME_NAME, against folder ../baseline]',
    );
    expect(json[2]).toContain('changed option "json_name" from "text" to "body". UI event "ChatMessageAppended" travels as protobuf JSON');
    expect(results.get("id-field-change")!.diagnostics[0]?.message).toContain('id_field changed from "message_id" to "id"');
  });
});

describe("schema-vet --against: baselines, reporters, config", () => {
  it("a git ref: HEAD is clean, a working-tree edit is flagged, HEAD~1 compares with history", async () => {
    const repo = temp();
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "pipe" }).toString();
    git("init", "-q");
    git("config", "user.email", "t@example.com");
    git("config", "user.name", "t");
    cpSync(join(base, "renumber/baseline"), join(repo, "proto"), { recursive: true });
    git("add", ".");
    git("commit", "-q", "-m", "baseline");
    expect((await runSchemaVet({ cwd: repo, paths: [], against: "HEAD" })).exitCode).toBe(0);
    cpSync(join(base, "renumber/change"), join(repo, "proto"), { recursive: true });
    const dirty = await runSchemaVet({ cwd: repo, paths: [], against: "HEAD" });
    expect(dirty.diagnostics.map((d) => `${d.ruleId} ${d.range?.line}`)).toEqual(["persisted-wire-breaking 17"]);
    expect(dirty.diagnostics[0]?.file).toBe(join(repo, "proto/app/v1/app.proto"));
    expect(dirty.diagnostics[0]?.message).toMatch(/against git ref HEAD \([0-9a-f]{12}\)\]$/);
    git("commit", "-q", "-am", "renumber");
    expect((await runSchemaVet({ cwd: repo, paths: [], against: "HEAD~1" })).exitCode).toBe(1);
    expect((await runSchemaVet({ cwd: repo, paths: [], against: "HEAD" })).exitCode).toBe(0);
  }, 120_000);

  it("a buf image built from the baseline", async () => {
    const dir = temp();
    cpSync(join(base, "type-change/baseline"), join(dir, "old"), { recursive: true });
    cpSync(resolve("proto/sessionstream"), join(dir, "old/sessionstream"), { recursive: true });
    execFileSync(bundledBufPath(), ["build", "-o", join(dir, "old.binpb")], { cwd: join(dir, "old"), stdio: "pipe" });
    const r = await runSchemaVet({ cwd: join(base, "type-change/change"), paths: ["."], against: join(dir, "old.binpb") });
    expect(r.diagnostics.map((d) => `${d.ruleId} ${d.range?.line}`)).toEqual(["persisted-wire-breaking 20", "persisted-wire-breaking 30"]);
    expect(r.diagnostics[0]?.message).toContain(`against buf image ${join(dir, "old.binpb")}`);
  }, 120_000);

  it("an unreadable baseline is a fatal against-error (exit 2) that says what to pass", async () => {
    const cwd = join(base, "compatible-ok/change");
    const r = await runSchemaVet({ cwd, paths: ["."], against: "no-such-ref-anywhere" });
    expect(r.exitCode).toBe(2);
    expect(r.diagnostics.map((d) => d.ruleId)).toEqual(["against-error"]);
    expect(r.diagnostics[0]?.message).toContain("--against no-such-ref-anywhere: not a file, a folder or a git ref of this repository");
    const image = await runSchemaVet({ cwd, paths: ["."], against: "missing.binpb" });
    expect(image.diagnostics[0]?.message).toBe("--against missing.binpb: no such buf image (build one with `buf build -o missing.binpb`)");
  }, 60_000);

  it("json and sarif carry the rule ids, positions and fixes; config changes severities; disable comments work", async () => {
    const cwd = join(base, "ui-json-name/change");
    const json = await schemaVet({ cwd, paths: ["."], against: "../baseline", format: "json" });
    const report = JSON.parse(json.stdout) as { diagnostics: Array<{ file: string; line: number; column: number; ruleId: string; fix: string }> };
    expect(report.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.ruleId}`)).toEqual([
      "app/v1/app.proto:14:16 json-wire-breaking",
      "app/v1/app.proto:35:3 json-wire-breaking",
      "app/v1/app.proto:36:20 json-wire-breaking",
    ]);
    expect(report.diagnostics[0]?.fix).toContain("Keep the old field and enum value names");
    const sarif = JSON.parse((await schemaVet({ cwd, paths: ["."], against: "../baseline", format: "sarif" })).stdout) as {
      runs: Array<{ tool: { driver: { rules: Array<{ id: string }> } }; results: Array<{ ruleId: string; level: string }> }>;
    };
    expect(sarif.runs[0]?.tool.driver.rules.map((r) => r.id)).toEqual(
      expect.arrayContaining(["persisted-wire-breaking", "json-wire-breaking", "persisted-type-renamed", "persisted-name-removed", "timeline-id-field-changed", "against-error"]),
    );
    expect(sarif.runs[0]?.results.map((r) => `${r.ruleId} ${r.level}`)).toEqual(["json-wire-breaking warning", "json-wire-breaking warning", "json-wire-breaking warning"]);

    // Per-rule severity from sessionstream.config.json, and a disable comment, on a copy.
    const copy = temp();
    cpSync(join(base, "ui-json-name"), copy, { recursive: true });
    writeFileSync(join(copy, "change/sessionstream.config.json"), JSON.stringify({ schemaVet: { rules: { "json-wire-breaking": "error" } } }));
    const strict = await schemaVet({ cwd: join(copy, "change"), paths: ["."], against: "../baseline" });
    expect(strict.exitCode).toBe(1);
    expect(strict.stdout).toMatch(/^app\/v1\/app\.proto:36:20 {2}error {2}json-wire-breaking {2}Field "2"/m);
    const file = join(copy, "change/app/v1/app.proto");
    writeFileSync(file, readFileSync(file, "utf8").replace("  string text = 2 [", "  // sessionstream-vet-disable-next-line json-wire-breaking -- clients ship together\n  string text = 2 ["));
    const quiet = await runSchemaVet({ cwd: join(copy, "change"), paths: ["."], against: "../baseline" });
    expect(quiet.diagnostics.map((d) => d.range?.line)).toEqual([14, 35]);
    expect(quiet.suppressedCount).toBe(1);
  }, 120_000);
});
