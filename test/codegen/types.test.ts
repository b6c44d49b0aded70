// Type tests: the generated API accepts valid usage and rejects wrong
// payloads, undeclared names, undeclared UI events / entity kinds from a case
// and missing cases. One tsc program for the whole file.
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGen } from "../../src/codegen/gen.js";
import { FIXTURES, makeProject, removeProject, typecheck, type Diag } from "./helpers.js";

let dir: string;
let diags: Diag[];

beforeAll(async () => {
  dir = makeProject("chat");
  expect((await runGen({ projectDir: dir })).exitCode).toBe(0);
  for (const f of ["valid-usage.ts", "invalid-usage.ts"]) {
    copyFileSync(join(FIXTURES, "chat/type-tests", f), join(dir, "src", f));
  }
  diags = typecheck(dir);
}, 90_000);
afterAll(() => removeProject(dir));

/** Lines (1-based) that follow an `// expect TSxxxx` marker, with the code. */
function expectations(file: string): Array<{ line: number; code: number }> {
  const lines = readFileSync(join(dir, file), "utf8").split("\n");
  const out: Array<{ line: number; code: number }> = [];
  lines.forEach((text, i) => {
    const m = /\/\/ expect TS(\d+)/.exec(text);
    if (m) out.push({ line: i + 2, code: Number(m[1]) });
  });
  return out;
}

describe("generated chat types", () => {
  it("valid usage compiles, and so do the generated files and stubs", () => {
    expect(diags.filter((d) => d.file !== "src/invalid-usage.ts")).toEqual([]);
  });

  it("every marked misuse fails with the expected code, and nothing else fails", () => {
    const got = diags.filter((d) => d.file === "src/invalid-usage.ts").map((d) => ({ line: d.line, code: d.code }));
    expect(got).toEqual(expectations("src/invalid-usage.ts"));
    expect(got.length).toBe(7);
  });

  it("names the problem in each diagnostic", () => {
    const messages = diags.filter((d) => d.file === "src/invalid-usage.ts").map((d) => d.message);
    expect(messages[0]).toContain("'promt' does not exist");
    expect(messages[1]).toMatch(/chat\.v1\.StopInferenceCommand/);
    expect(messages[2]).toContain('"ChatRestartInference"');
    expect(messages[3]).toContain("'prompt' does not exist");
    expect(messages[4]).toContain('"ChatMessageStopped"');
    expect(messages[5]).toContain("Property 'ChatInferenceStopped' is missing");
    expect(messages[6]).toContain('"Task"');
  });
});
