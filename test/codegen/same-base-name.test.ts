// Annotated files sharing a base name (chat/v1/chat.proto, chat/v2/chat.proto)
// get package-qualified identifier prefixes, as does a file whose prefix
// would be the app-level file's "App"; what still collides is refused with
// both places named, and duplicate names print both places relative to the project.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnnotationError } from "../../src/codegen/annotations.js";
import { compileProtos } from "../../src/codegen/compile-protos.js";
import { runGen, type GenResult } from "../../src/codegen/gen.js";
import { annotatedModels } from "../../src/codegen/plugin.js";
import { makeProject, readTree, removeProject, typecheck } from "./helpers.js";

let dir: string;
let result: GenResult;
const roots: string[] = [];

beforeAll(async () => {
  dir = makeProject("versions");
  result = await runGen({ projectDir: dir });
}, 60_000);
afterAll(() => {
  removeProject(dir);
  roots.forEach((r) => rmSync(r, { recursive: true, force: true }));
});

const HEADER = (pkg: string) => `syntax = "proto3";\npackage ${pkg};\nimport "sessionstream/v1/options.proto";\n`;

/** The annotation errors of inline proto files (path -> text), or [] when they pass. */
async function problems(files: Record<string, string>): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), "ss-base-name-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const c = await compileProtos({ roots: [root] });
  try {
    annotatedModels(c.files, c.files);
  } catch (err) {
    expect(err).toBeInstanceOf(AnnotationError);
    return (err as Error).message.split("\n");
  }
  return [];
}

describe("files sharing a base name", () => {
  it("generates package-qualified prefixes: the first by path keeps the plain one", () => {
    expect(result.errors).toEqual([]);
    expect(result.exitCode).toBe(0);
    const tree = readTree(dir, "src");
    expect(tree.get("src/gen/chat/v1/chat_sessionstream.ts")).toContain("export interface ChatSchema {");
    expect(tree.get("src/gen/chat/v2/chat_sessionstream.ts")).toContain("export interface ChatV2ChatSchema {");
    expect(tree.get("src/gen/chat/v2/chat_sessionstream.ts")).toContain("export function registerChatV2ChatHandlers<");
    expect(tree.get("src/gen/app/v1/app_sessionstream.ts")).toContain("export interface AppV1AppSchema {");
    expect(result.files.filter((f) => f.kind === "stub").map((f) => f.path)).toEqual([
      "src/app.ts",
      "src/handlers/chat-send-v2.ts",
      "src/handlers/chat-send.ts",
      "src/handlers/ping.ts",
      "src/projections/app-v1-app-timeline.ts",
      "src/projections/app-v1-app-ui.ts",
      "src/projections/chat-timeline.ts",
      "src/projections/chat-ui.ts",
      "src/projections/chat-v2-chat-timeline.ts",
      "src/projections/chat-v2-chat-ui.ts",
    ]);
  });

  it("compiles with tsc strict (no identifier clashes in generated code or app.ts)", () => {
    expect(typecheck(dir)).toEqual([]);
  }, 60_000);

  it("a second run leaves every file alone", async () => {
    const again = await runGen({ projectDir: dir });
    expect(again.files.filter((f) => f.status !== "unchanged")).toEqual([]);
  });

  it("refuses files whose package-qualified prefixes still collide, naming both", async () => {
    const cmd = (name: string) => `message ${name} { option (sessionstream.v1.command) = {}; }\n`;
    expect(
      await problems({
        "chat/v1/chat.proto": HEADER("chat.v1") + cmd("A"),
        "x/chat.proto": HEADER("chat.v1") + cmd("B"),
        "y/chat.proto": HEADER("chat.v1") + cmd("C"),
      }),
    ).toEqual([
      'y/chat.proto:1:1: this file and x/chat.proto:1:1 both generate identifiers prefixed "ChatV1Chat" ' +
        "(files sharing a base name are told apart by package, and these cannot be); rename one of the files",
    ]);
  });

  it("refuses an annotated app.proto at the root, which would overwrite the app-level file", async () => {
    expect(await problems({ "app.proto": HEADER("app") + 'message P { option (sessionstream.v1.command) = {}; }\n' })).toEqual([
      "app.proto:1:1: app.proto would generate app_sessionstream.ts, the app-level file of every annotated proto; " +
        "move it into a package folder (e.g. app/v1/app.proto)",
    ]);
  });
});

describe("duplicate names through gen", () => {
  it("print both places the same way, relative to the project", async () => {
    const cmd = 'message A {\n  option (sessionstream.v1.command) = { name: "ChatSend" };\n}\n';
    mkdirSync(join(dir, "proto/dup/v1"), { recursive: true });
    writeFileSync(join(dir, "proto/dup/v1/dup.proto"), HEADER("dup.v1") + cmd);
    try {
      const r = await runGen({ projectDir: dir });
      expect(r.exitCode).toBe(2);
      expect(r.errors).toEqual([
        'proto/dup/v1/dup.proto:5:10: duplicate command name "ChatSend" (first defined at proto/chat/v1/chat.proto:9:10); give one of them a different name',
      ]);
    } finally {
      rmSync(join(dir, "proto/dup"), { recursive: true });
    }
  });
});
