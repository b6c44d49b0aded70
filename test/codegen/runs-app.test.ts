// The generated run wiring works at run time: gen the runs fixture, fill in
// the start/stop handlers, the chat.answer hooks and the timeline
// (fixtures/codegen/runs/app), then submit in a separate Node process: a run
// that finishes, one that is stopped, and one started by an untouched stub.
import { execFileSync } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runGen } from "../../src/codegen/gen.js";
import { FIXTURES, makeProject, REPO, removeProject } from "./helpers.js";

let dir: string;

beforeAll(async () => {
  dir = makeProject("runs");
  expect((await runGen({ projectDir: dir })).exitCode).toBe(0);
  cpSync(join(FIXTURES, "runs/app"), join(dir, "src"), { recursive: true });
}, 60_000);
afterAll(() => removeProject(dir));

it("runs end through the hooks registered by registerAppRunKinds, each with its terminal event", () => {
  const out = execFileSync(join(REPO, "node_modules/.bin/tsx"), ["src/run-answers.ts"], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  expect(JSON.parse(out)).toEqual({
    runs: [
      { kind: "chat.answer", state: "finished" },
      { kind: "chat.answer", state: "stopped" },
      // The untouched AnswerRetry stub: its work throws, so the run fails and names the file to edit.
      { kind: "chat.answer", state: "failed", error: "not implemented: edit src/handlers/answer-retry.ts" },
    ],
    entities: [
      { id: "m1", payload: { messageId: "m1", text: "Runs end once.", status: "finished" } },
      { id: "m2", payload: { messageId: "m2", status: "stopped" } },
    ],
  });
}, 60_000);
