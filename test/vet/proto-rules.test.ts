import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runSchemaVet, type SchemaVetResult } from "../../src/vet/run-vet.js";
import { byPosition, expectedMarkers } from "./markers.js";

const base = resolve("fixtures/vet/proto");
const CASES = [
  "clean",
  "struct",
  "duplicate-name",
  "timeline-id-field",
  "event-without-projection",
  "live-only-ui-event",
  "undeclared-ui-event",
  "unknown-projection-target",
  "run-without-terminal-event",
  "terminal-event-unknown-run",
  "suppressed",
  "broken",
] as const;

describe("proto rules: one fixture root per rule", () => {
  const results = new Map<string, SchemaVetResult>();
  beforeAll(async () => {
    // Each case is its own proto root (its names must not leak into the others).
    for (const c of CASES) results.set(c, await runSchemaVet({ cwd: join(base, c), paths: ["."] }));
  }, 120_000);

  it.each(CASES)("%s: exactly the marked lines are reported", (c) => {
    const result = results.get(c);
    const expected = expectedMarkers(join(base, c), [".proto"]).map(({ file, line, ruleId }) => ({ file, line, ruleId }));
    const actual = (result?.diagnostics ?? []).map((d) => ({ file: d.file, line: d.range?.line ?? 0, ruleId: d.ruleId }));
    expect(actual.sort(byPosition)).toEqual(expected);
    if (c !== "clean") expect(expected.length).toBeGreaterThan(0);
  });

  it("uses each rule's severity and explains the finding", () => {
    const live = results.get("live-only-ui-event")?.diagnostics[0];
    expect(live).toMatchObject({ severity: "warning", range: { line: 23, column: 10 } });
    expect(live?.message).toBe('event "TypingEvent" declares UI events (ItemChanged) but no timeline entity: a reload loses the state they built');
    const dup = results.get("duplicate-name")?.diagnostics[0];
    expect(dup?.message).toBe('duplicate command name "Start": also declared by app.v1.Start (app/v1/app.proto:23:10)');
    expect(dup?.range).toMatchObject({ line: 28, column: 41 });
    const id = results.get("timeline-id-field")?.diagnostics.map((d) => d.message);
    expect(id).toContain('timeline entity "NumericIdEntity" id field "seq" is int64, not a singular string');
    expect(id).toContain('timeline entity "NoIdEntity" (app.v1.NoIdEntity) has no field "id" to use as its id');
  });

  it("run kinds: a kind no event ends, and an ends_runs kind no command starts, are warnings at the kind", () => {
    const noEnd = results.get("run-without-terminal-event")?.diagnostics ?? [];
    expect(noEnd.map((d) => [d.severity, d.range?.line, d.range?.column])).toEqual([
      ["warning", 15, 5],
      ["warning", 22, 63],
    ]);
    expect(noEnd[0]?.message).toBe(
      'command "BuildReport" starts runs of kind "report.build", but no event lists it in ends_runs: its hooks have no terminal event to publish, so a stopped, failed or interrupted run leaves the timeline looking alive',
    );
    const unknown = results.get("terminal-event-unknown-run")?.diagnostics ?? [];
    expect(unknown.map((d) => [d.severity, d.range?.line, d.range?.column])).toEqual([
      ["warning", 14, 10],
      ["warning", 27, 5],
    ]);
    expect(unknown[0]?.message).toBe('event "JobEndedEvent" ends run kind "job.rnu", but no command starts it (starts_run)');
    expect(results.get("run-without-terminal-event")?.exitCode).toBe(0);
    expect(results.get("terminal-event-unknown-run")?.exitCode).toBe(0);
  });

  it("exit codes: clean 0, errors 1, warnings only 0, broken 2", () => {
    expect(results.get("clean")?.exitCode).toBe(0);
    expect(results.get("struct")?.exitCode).toBe(1);
    expect(results.get("live-only-ui-event")?.exitCode).toBe(0);
    expect(results.get("undeclared-ui-event")?.exitCode).toBe(0);
    expect(results.get("broken")?.exitCode).toBe(2);
  });

  it("a broken proto is reported with file:line:col and the other files are still checked", () => {
    const broken = results.get("broken")?.diagnostics ?? [];
    const parse = broken.filter((d) => d.ruleId === "proto-parse-error");
    expect(parse.map((d) => [d.file.slice(base.length + 1), d.range?.line, d.range?.column, d.fatal])).toEqual([
      ["broken/app/v1/broken.proto", 6, 3, true],
      ["broken/app/v1/importer.proto", 4, 1, true],
    ]);
    expect(broken.find((d) => d.file.endsWith("good.proto"))?.ruleId).toBe("live-only-ui-event");
  });

  it("suppression comments work above the message and above the option", () => {
    expect(results.get("suppressed")?.suppressedCount).toBe(2);
  });
});
