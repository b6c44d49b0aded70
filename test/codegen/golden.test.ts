// Golden output of `gen` for the chat + tasks fixture, and a strict tsc
// compile of everything it wrote. UPDATE_GOLDEN=1 rewrites the golden files
// (review the diff).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGen, type GenResult } from "../../src/codegen/gen.js";
import { FIXTURES, makeProject, readTree, removeProject, typecheck } from "./helpers.js";

const GOLDEN = join(FIXTURES, "chat/golden");
let dir: string;
let result: GenResult;

beforeAll(async () => {
  dir = makeProject("chat");
  result = await runGen({ projectDir: dir });
}, 60_000);
afterAll(() => removeProject(dir));

describe("gen on the chat fixture", () => {
  it("reports every file it created", () => {
    expect(result.exitCode).toBe(0);
    expect(result.files.map((f) => `${f.status} ${f.kind} ${f.path}`)).toEqual([
      "created generated src/gen/app_sessionstream.ts",
      "created generated src/gen/chat/v1/chat_pb.ts",
      "created generated src/gen/chat/v1/chat_sessionstream.ts",
      "created generated src/gen/chat/v1/usage_pb.ts",
      "created generated src/gen/tasks/v1/tasks_pb.ts",
      "created generated src/gen/tasks/v1/tasks_sessionstream.ts",
      "created stub src/app.ts",
      "created stub src/handlers/add-task-command.ts",
      "created stub src/handlers/chat-start-inference.ts",
      "created stub src/handlers/chat-stop-inference.ts",
      "created stub src/handlers/delete-task-command.ts",
      "created stub src/projections/chat-timeline.ts",
      "created stub src/projections/chat-ui.ts",
      "created stub src/projections/tasks-timeline.ts",
      "created stub src/projections/tasks-ui.ts",
    ]);
  });

  it("matches the golden files (everything but protoc-gen-es output)", () => {
    const tree = readTree(dir, "src");
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

  it("imports the options descriptor from the sessionstream package, not a local copy", () => {
    const pb = readTree(dir, "src").get("src/gen/chat/v1/chat_pb.ts")!;
    expect(pb).toContain(`from "sessionstream/gen/sessionstream/v1/options_pb.js"`);
    expect(readTree(dir, "src").has("src/gen/sessionstream/v1/options_pb.ts")).toBe(false);
  });

  it("generates nothing of its own for a proto file without annotations", () => {
    const tree = readTree(dir, "src");
    expect(tree.has("src/gen/chat/v1/usage_pb.ts")).toBe(true);
    expect(tree.has("src/gen/chat/v1/usage_sessionstream.ts")).toBe(false);
    expect(tree.get("src/gen/chat/v1/chat_sessionstream.ts")).not.toContain("Usage");
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
