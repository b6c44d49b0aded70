import { resolve } from "node:path";
import { CommanderError } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { schemaVet } from "../../src/cli/commands/schema-vet.js";
import { createProgram } from "../../src/cli/main.js";

const fixtures = resolve("fixtures/vet");
const repo = resolve(".");

describe("sessionstream schema-vet: exit codes", () => {
  it("0 when clean (TypeScript traps + clean protos)", async () => {
    const out = await schemaVet({ cwd: repo, paths: [`${fixtures}/ts-project/src/traps`, `${fixtures}/proto/clean`] });
    expect(out.stdout).toMatch(/^schema-vet: no problems in 1 TypeScript file \(1 type-resolved\) and 1 proto file\n$/);
    expect(out.exitCode).toBe(0);
  });

  it("1 on errors", async () => {
    expect((await schemaVet({ cwd: `${fixtures}/proto/struct`, paths: ["."] })).exitCode).toBe(1);
  });

  it("0 on warnings only, 1 when they exceed --max-warnings", async () => {
    const cwd = `${fixtures}/proto/undeclared-ui-event`;
    expect((await schemaVet({ cwd, paths: ["."] })).exitCode).toBe(0);
    expect((await schemaVet({ cwd, paths: ["."], maxWarnings: "2" })).exitCode).toBe(0);
    expect((await schemaVet({ cwd, paths: ["."], maxWarnings: "1" })).exitCode).toBe(1);
  });

  it("2 for a broken TypeScript file, still reporting the other file", async () => {
    const out = await schemaVet({ cwd: `${fixtures}/ts-broken`, paths: [], format: "json" });
    const report = JSON.parse(out.stdout) as { diagnostics: Array<{ file: string; ruleId: string }>; summary: { exitCode: number } };
    expect(report.diagnostics.map((d) => `${d.file} ${d.ruleId}`)).toEqual([
      "src/broken.ts no-top-level-struct",
      "src/broken.ts ts-parse-error",
      "src/fine.ts no-top-level-struct",
    ]);
    expect(report.summary.exitCode).toBe(2);
    expect(out.exitCode).toBe(2);
  });

  it("2 for a broken proto", async () => {
    expect((await schemaVet({ cwd: `${fixtures}/proto/broken`, paths: ["."] })).exitCode).toBe(2);
  });

  it("2 for an unreadable tsconfig, reported with its position", async () => {
    const out = await schemaVet({ cwd: `${fixtures}/bad-tsconfig`, paths: [] });
    expect(out.stdout).toMatch(/^tsconfig\.json:\d+:\d+ {2}error {2}config-error {2}unreadable tsconfig: /m);
    expect(out.exitCode).toBe(2);
  });

  it("2 for usage errors: a missing path, a bad format, a bad --max-warnings", async () => {
    const missing = await schemaVet({ cwd: repo, paths: ["does/not/exist.ts"] });
    expect(missing.stdout).toContain("does/not/exist.ts  error  config-error  cannot read");
    expect(missing.exitCode).toBe(2);
    expect(await schemaVet({ cwd: repo, paths: [], format: "xml" })).toEqual({
      stdout: "",
      stderr: 'schema-vet: unknown --format "xml" (expected human, json, sarif)\n',
      exitCode: 2,
    });
    expect((await schemaVet({ cwd: repo, paths: [], maxWarnings: "-1" })).stderr).toBe(
      'schema-vet: --max-warnings expects a non-negative integer, got "-1"\n',
    );
  });
});

describe("sessionstream schema-vet: the commander verb", () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it("prints the chosen format and sets process.exitCode", async () => {
    const writes: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    await createProgram().parseAsync(["node", "sessionstream", "schema-vet", `${fixtures}/proto/struct`, "--format", "sarif"]);
    const sarif = JSON.parse(writes.join("")) as { version: string; runs: Array<{ results: unknown[] }> };
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0]?.results).toHaveLength(2);
    expect(process.exitCode).toBe(1);
  });

  it("rejects an unknown option or format with exit code 2", async () => {
    for (const args of [["--nope"], ["--format", "xml"]]) {
      const run = createProgram().parseAsync(["node", "sessionstream", "schema-vet", ...args]);
      await expect(run).rejects.toBeInstanceOf(CommanderError);
      await run.catch((err: CommanderError) => expect(err.exitCode).toBe(2));
    }
  });

  it("documents rules, suppression and exit codes in --help", () => {
    const verb = createProgram().commands.find((c) => c.name() === "schema-vet");
    let help = "";
    verb?.configureOutput({ writeOut: (s) => (help += s) }).outputHelp();
    expect(help).toContain("sessionstream-vet-disable-next-line");
    expect(help).toContain("live-only-ui-event");
    expect(help).toContain("Exit codes: 0 clean");
  });
});
