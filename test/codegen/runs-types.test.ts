// Type tests of the generated run API: registerAppRunKinds needs hooks for
// every annotated run kind (a missing or unknown kind fails to compile), kind
// names and terminal events are literal types, and hooks publish only events
// of the app. One tsc program for the whole file.
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGen } from "../../src/codegen/gen.js";
import { FIXTURES, makeProject, removeProject, typecheck, type Diag } from "./helpers.js";

let dir: string;
let diags: Diag[];

beforeAll(async () => {
  dir = makeProject("runs");
  expect((await runGen({ projectDir: dir })).exitCode).toBe(0);
  for (const f of ["valid-runs.ts", "invalid-runs.ts"]) copyFileSync(join(FIXTURES, "runs/type-tests", f), join(dir, "src", f));
  diags = typecheck(dir);
}, 90_000);
afterAll(() => removeProject(dir));

/** Lines (1-based) that follow an `// expect TSxxxx` marker, with the code. */
function expectations(file: string): Array<{ line: number; code: number }> {
  const out: Array<{ line: number; code: number }> = [];
  readFileSync(join(dir, file), "utf8")
    .split("\n")
    .forEach((text, i) => {
      const m = /\/\/ expect TS(\d+)/.exec(text);
      if (m) out.push({ line: i + 2, code: Number(m[1]) });
    });
  return out;
}

describe("generated run types", () => {
  it("valid usage compiles, and so do the generated files and stubs", () => {
    expect(diags.filter((d) => d.file !== "src/invalid-runs.ts")).toEqual([]);
  });

  it("every marked misuse fails with the expected code, and nothing else fails", () => {
    const got = diags.filter((d) => d.file === "src/invalid-runs.ts").map((d) => ({ line: d.line, code: d.code }));
    expect(got).toEqual(expectations("src/invalid-runs.ts"));
    expect(got.length).toBe(6);
  });

  it("names the problem in each diagnostic", () => {
    const messages = diags.filter((d) => d.file === "src/invalid-runs.ts").map((d) => d.message);
    expect(messages[0]).toContain(`Property '"transcript.export"' is missing`);
    expect(messages[1]).toContain("'\"chat.anwser\"' does not exist in type 'AppRunKindHooksMap'");
    expect(messages[2]).toContain(`Did you mean '"chat.answer"'?`);
    expect(messages[3]).toContain('"chat.anwser"');
    expect(messages[4]).toContain('"AnswerCancelled"');
    expect(messages[5]).toContain('"AnswerDelta"');
  });
});
