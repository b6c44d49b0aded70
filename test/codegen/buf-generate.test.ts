// The plugin as a real protoc plugin process: `buf generate` with
// bin/protoc-gen-sessionstream.js as a `local:` plugin (beside protoc-gen-es)
// writes the same files as `sessionstream gen`.
import { execFileSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bundledBufPath } from "../../src/codegen/compile-protos.js";
import { esPluginParameter, runGen, sessionstreamPluginParameter } from "../../src/codegen/gen.js";
import { makeProject, readTree, REPO, removeProject } from "./helpers.js";

let dir: string;

beforeAll(() => {
  dir = makeProject("chat");
}, 30_000);
afterAll(() => removeProject(dir));

it("buf generate with the plugin bin and gen produce identical files", async () => {
  expect((await runGen({ projectDir: dir })).exitCode).toBe(0);

  // A buf workspace of the user's protos plus this package's proto/ (for options.proto).
  symlinkSync(join(REPO, "proto"), join(dir, "sessionstream-proto"), "dir");
  writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n  - path: sessionstream-proto\n");
  const opts = (parameter: string) => parameter.split(",").map((o) => `      - ${o}\n`).join("");
  writeFileSync(
    join(dir, "buf.gen.yaml"),
    "version: v2\nplugins:\n" +
      `  - local: ${join(REPO, "node_modules/.bin/protoc-gen-es")}\n    out: buf-out\n    opt:\n${opts(esPluginParameter("js"))}` +
      `  - local: ${join(REPO, "bin/protoc-gen-sessionstream.js")}\n    out: buf-out\n    opt:\n${opts(sessionstreamPluginParameter("js"))}`,
  );
  execFileSync(bundledBufPath(), ["generate", "proto"], { cwd: dir, stdio: "pipe" });

  const fromBuf = [...readTree(dir, "buf-out")].map(([p, t]) => [p.replace(/^buf-out\//, ""), t] as const);
  const fromGen = [...readTree(dir, "src/gen")].map(([p, t]) => [p.replace(/^src\/gen\//, ""), t] as const);
  expect(fromBuf.map(([p]) => p).sort()).toEqual([
    "chat/v1/chat_pb.ts",
    "chat/v1/chat_sessionstream.ts",
    "chat/v1/usage_pb.ts",
    "tasks/v1/tasks_pb.ts",
    "tasks/v1/tasks_sessionstream.ts",
  ]);
  expect(new Map(fromBuf)).toEqual(new Map(fromGen));
}, 60_000);
