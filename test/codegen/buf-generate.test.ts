// The plugin as a real protoc plugin process: `buf generate` with the
// buf.yaml / buf.gen.yaml the README documents, taken verbatim from the
// README, writes byte-for-byte the files `sessionstream gen` writes
// (app-level file included, across two proto directories).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bundledBufPath } from "../../src/codegen/compile-protos.js";
import { runGen } from "../../src/codegen/gen.js";
import { makeProject, readTree, REPO, removeProject, typecheck } from "./helpers.js";

let dir: string;

/** The fenced yaml block right after `<!-- <name> (tested) -->` in the README. */
function readmeBlock(name: string): string {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const m = new RegExp(`<!-- ${name.replace(".", "\\.")} \\(tested\\) -->\\n\`\`\`yaml\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!m) throw new Error(`README.md has no "<!-- ${name} (tested) -->" yaml block`);
  return m[1]!;
}

beforeAll(() => {
  dir = makeProject("chat");
  // What `npm install sessionstream` gives a project: the two plugin bins in node_modules/.bin.
  mkdirSync(join(dir, "node_modules/.bin"), { recursive: true });
  symlinkSync(join(REPO, "bin/protoc-gen-sessionstream.js"), join(dir, "node_modules/.bin/protoc-gen-sessionstream"));
  symlinkSync(join(REPO, "node_modules/.bin/protoc-gen-es"), join(dir, "node_modules/.bin/protoc-gen-es"));
}, 30_000);
afterAll(() => removeProject(dir));

function bufGenerate(): void {
  execFileSync(bundledBufPath(), ["generate"], {
    cwd: dir,
    stdio: "pipe",
    // As `npx buf generate` or an npm script runs it.
    env: { ...process.env, PATH: `${join(dir, "node_modules/.bin")}:${process.env["PATH"] ?? ""}` },
  });
}

it("buf generate with the README's buf.yaml and buf.gen.yaml writes what gen writes", async () => {
  expect((await runGen({ projectDir: dir })).exitCode).toBe(0);
  const fromGen = readTree(dir, "src/gen");
  rmSync(join(dir, "src/gen"), { recursive: true });

  writeFileSync(join(dir, "buf.yaml"), readmeBlock("buf.yaml"));
  writeFileSync(join(dir, "buf.gen.yaml"), readmeBlock("buf.gen.yaml"));
  bufGenerate();

  const fromBuf = readTree(dir, "src/gen");
  expect([...fromBuf.keys()].sort()).toEqual([
    "src/gen/app_sessionstream.ts",
    "src/gen/chat/v1/chat_pb.ts",
    "src/gen/chat/v1/chat_sessionstream.ts",
    "src/gen/chat/v1/usage_pb.ts",
    "src/gen/tasks/v1/tasks_pb.ts",
    "src/gen/tasks/v1/tasks_sessionstream.ts",
  ]);
  expect(fromBuf).toEqual(fromGen);
}, 60_000);

it("without strategy: all, the generated code fails to compile with a message naming the fix", () => {
  // buf's default runs the plugin once per directory: the last run's app-level file misses the other directory.
  const yaml = readmeBlock("buf.gen.yaml");
  expect(yaml).toContain("    strategy: all\n");
  rmSync(join(dir, "src/gen"), { recursive: true, force: true });
  writeFileSync(join(dir, "buf.gen.yaml"), yaml.replace("    strategy: all\n", ""));
  bufGenerate();
  const guide = typecheck(dir).filter((d) => d.message.includes("app_sessionstream.ts was generated without this proto file"));
  expect(guide.length).toBe(1);
  expect(guide[0]!.message).toContain("strategy: all for protoc-gen-sessionstream in buf.gen.yaml");
}, 60_000);
