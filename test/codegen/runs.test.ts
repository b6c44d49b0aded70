// Golden output of `gen` for the runs fixture (commands with starts_run, events
// with ends_runs): the generated run kinds and registerAppRunKinds, the handler
// stub that starts a run, a hooks stub per kind, and a strict tsc compile.
// UPDATE_GOLDEN=1 rewrites the golden files (review the diff).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGen, type GenResult } from "../../src/codegen/gen.js";
import { FIXTURES, makeProject, readTree, removeProject, typecheck } from "./helpers.js";

const GOLDEN = join(FIXTURES, "runs/golden");
let dir: string;
let result: GenResult;
let tree: Map<string, string>;

beforeAll(async () => {
  dir = makeProject("runs");
  result = await runGen({ projectDir: dir });
  tree = readTree(dir, "src");
}, 60_000);
afterAll(() => removeProject(dir));

describe("gen on the runs fixture", () => {
  it("writes a hooks stub per run kind beside the handler and projection stubs", () => {
    expect(result.exitCode).toBe(0);
    expect(result.files.map((f) => `${f.status} ${f.kind} ${f.path}`)).toEqual([
      "created generated src/gen/answers/v1/answers_pb.ts",
      "created generated src/gen/answers/v1/answers_sessionstream.ts",
      "created generated src/gen/app_sessionstream.ts",
      "created stub src/app.ts",
      "created stub src/handlers/answer-retry.ts",
      "created stub src/handlers/answer-start.ts",
      "created stub src/handlers/answer-stop.ts",
      "created stub src/handlers/transcript-export.ts",
      "created stub src/projections/answers-timeline.ts",
      "created stub src/projections/answers-ui.ts",
      "created stub src/runs/chat-answer.ts",
      "created stub src/runs/transcript-export.ts",
    ]);
  });

  it("matches the golden files (everything but protoc-gen-es output)", () => {
    const ours = [...tree].filter(([path]) => !path.endsWith("_pb.ts"));
    if (process.env.UPDATE_GOLDEN) {
      for (const [path, text] of ours) {
        const target = join(GOLDEN, path.replace(/^src\//, ""));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, text);
      }
    }
    const golden = readTree(GOLDEN);
    expect([...golden.keys()].sort()).toEqual(ours.map(([p]) => p.replace(/^src\//, "")).sort());
    for (const [path, text] of ours) expect(text, path).toBe(golden.get(path.replace(/^src\//, "")));
  });

  it("generates the run kinds per file and for the app, with each kind's terminal events", () => {
    const file = tree.get("src/gen/answers/v1/answers_sessionstream.ts")!;
    expect(file).toContain(['export const AnswersRunKinds = {', '  "chat.answer": "chat.answer",', '  "transcript.export": "transcript.export",', "} as const;"].join("\n"));
    expect(file).toContain("export type AnswersRunKind = (typeof AnswersRunKinds)[keyof typeof AnswersRunKinds];");
    const app = tree.get("src/gen/app_sessionstream.ts")!;
    expect(app).toContain(
      ['export interface AppRunTerminalEvents {', '  "chat.answer": "AnswerFinished" | "AnswerStopped" | "AnswerFailed";', '  "transcript.export": never;', "}"].join("\n"),
    );
    expect(app).toContain("export type AppRunKindHooksMap = { readonly [K in AppRunKind]: AppRunKindHooks };");
    expect(app).toContain(
      [
        "export function registerAppRunKinds<S extends AppSchema>(hub: Hub<S>, hooks: AppRunKindHooksMap): Hub<S> {",
        '  hub.registerRunKind("chat.answer", hooks["chat.answer"] as never);',
        '  hub.registerRunKind("transcript.export", hooks["transcript.export"] as never);',
        "  return hub;",
        "}",
      ].join("\n"),
    );
  });

  it("the handler stub of a starts_run command starts a run of its kind and returns at once", () => {
    const stub = tree.get("src/handlers/answer-start.ts")!;
    expect(stub).toContain('import type { AnswersCommandHandler, AnswersRunKind } from "../gen/answers/v1/answers_sessionstream.js";');
    expect(stub).toContain(
      'await publisher.startRun({ kind: "chat.answer" satisfies AnswersRunKind, data: {} }, async ({ signal, publish }) => {',
    );
    expect(stub).toContain('throw new SessionstreamError("not_implemented", "not implemented: edit src/handlers/answer-start.ts");');
    expect(stub).toContain("the hooks in src/runs/chat-answer.ts publish\n * its terminal events (AnswerFinished, AnswerStopped, AnswerFailed).");
    // The throw is inside the work: the handler itself returns once the run is recorded.
    expect(stub.indexOf("throw")).toBeGreaterThan(stub.indexOf("startRun"));
    // A command without starts_run keeps the plain stub.
    expect(tree.get("src/handlers/answer-stop.ts")).not.toContain("startRun");
  });

  it("the hooks stub of a kind has the four hooks, each suggesting the terminal event of its state", () => {
    const stub = tree.get("src/runs/chat-answer.ts")!;
    expect(stub).toContain("export const chatAnswerHooks: AppRunKindHooks = {");
    expect(stub).toContain(' * Terminal events (ends_runs: "chat.answer"): AnswerFinished, AnswerStopped, AnswerFailed.');
    const suggestions = [...stub.matchAll(/async (\w+)\(.*\n.*\n\s*\/\/ await publisher\.publish\("(\w+)"/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(suggestions).toEqual(["finished AnswerFinished", "stopped AnswerStopped", "failed AnswerFailed", "interrupted AnswerStopped"]);
    const none = tree.get("src/runs/transcript-export.ts")!;
    expect(none).toContain('No event declares ends_runs: "transcript.export" yet: add it to the event that ends these runs.');
  });

  it("app.ts registers every run kind with its hooks stub", () => {
    const app = tree.get("src/app.ts")!;
    expect(app).toContain('import { createAppRegistry, registerAppRunKinds } from "./gen/app_sessionstream.js";');
    expect(app).toContain('import { chatAnswerHooks } from "./runs/chat-answer.js";');
    expect(app).toContain(
      ['  registerAppRunKinds(hub, {', '    "chat.answer": chatAnswerHooks,', '    "transcript.export": transcriptExportHooks,', "  });", "  return hub;"].join("\n"),
    );
  });

  it("compiles with tsc strict: generated code and stubs", () => {
    expect(typecheck(dir)).toEqual([]);
  }, 60_000);

  it("is idempotent: a second run leaves every file alone", async () => {
    const again = await runGen({ projectDir: dir });
    expect(again.files.filter((f) => f.status !== "unchanged")).toEqual([]);
    expect(again.notes).toEqual([]);
  });
});
