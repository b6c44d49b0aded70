// Protos that gain runs later: gen adds the hooks stub of each new run kind
// and registers it in the user's app.ts (inserting registerAppRunKinds before
// `return hub;` the first time, then adding entries to that call), never
// touching handlers the user already has. Bad or clashing kind names stop gen.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGen, type GenResult } from "../../src/codegen/gen.js";
import { makeProject, removeProject, typecheck } from "./helpers.js";

let dir: string;
const read = (p: string) => readFileSync(join(dir, p), "utf8");
const write = (p: string, text: string) => writeFileSync(join(dir, p), text);
const APP = "src/app.ts";
const PROTO = "proto/chat/v1/chat.proto";
const HANDLER = "src/handlers/chat-start-inference.ts";

let handlerBefore: string;
let appBefore: string;
let first: GenResult;
let second: GenResult;

beforeAll(async () => {
  dir = makeProject("chat");
  expect((await runGen({ projectDir: dir })).exitCode).toBe(0);
  handlerBefore = read(HANDLER);
  // The user's own line in createApp stays where it is.
  appBefore = read(APP).replace("  return hub;\n}", "  // mine: stays where it is\n  return hub;\n}");
  write(APP, appBefore);
  write(
    PROTO,
    read(PROTO)
      .replace('{ name: "ChatStartInference" }', '{ name: "ChatStartInference" starts_run: "chat.answer" }')
      .replace('timeline_entities: "ChatMessage"\n  };\n  string message_id = 1;\n}\n\nmessage InferenceStoppedEvent', 'timeline_entities: "ChatMessage"\n    ends_runs: "chat.answer"\n  };\n  string message_id = 1;\n}\n\nmessage InferenceStoppedEvent'),
  );
  first = await runGen({ projectDir: dir });
  write(
    PROTO,
    `${read(PROTO)}
message SuggestTitleCommand {
  option (sessionstream.v1.command) = { name: "ChatSuggestTitle" starts_run: "chat.title" };
}
`,
  );
  second = await runGen({ projectDir: dir });
}, 90_000);
afterAll(() => removeProject(dir));

describe("protos that gain runs", () => {
  it("the first run kind: its hooks stub is created and app.ts registers it before `return hub;`", () => {
    expect(first.exitCode).toBe(0);
    const report = first.files.filter((f) => f.kind === "stub" && f.status !== "unchanged").map((f) => `${f.status} ${f.path} ${f.added?.join(",") ?? ""}`.trim());
    expect(report).toEqual(["updated src/app.ts chat.answer", "created src/runs/chat-answer.ts"]);
    expect(read("src/runs/chat-answer.ts")).toContain(" * Terminal events (ends_runs: \"chat.answer\"): ChatInferenceFinished.");
  });

  it("an existing handler is never rewritten, even when its command now starts a run", () => {
    expect(read(HANDLER)).toBe(handlerBefore);
  });

  it("the second run kind is added to the existing registerAppRunKinds call; the user's lines stay", () => {
    expect(second.exitCode).toBe(0);
    expect(second.files.find((f) => f.path === APP)?.added).toEqual(["ChatSuggestTitle", "chat.title"]);
    const app = read(APP);
    expect(app).toContain(
      [
        "  // mine: stays where it is",
        "  registerAppRunKinds(hub, {",
        '    "chat.answer": chatAnswerHooks,',
        '    "chat.title": chatTitleHooks,',
        "  });",
        "  return hub;",
      ].join("\n"),
    );
    expect(app).toContain('import { registerAppRunKinds } from "./gen/app_sessionstream.js";');
    expect(app).toContain('import { chatAnswerHooks } from "./runs/chat-answer.js";');
    expect(app).toContain('import { chatTitleHooks } from "./runs/chat-title.js";');
    // Everything the user had is still there, in order.
    const kept = appBefore.split("\n").filter((l) => l !== "");
    const lines = app.split("\n");
    let at = 0;
    for (const l of kept) at = lines.indexOf(l, at) + 1 || Number.NaN;
    expect(at).not.toBeNaN();
    expect(read("src/handlers/chat-suggest-title.ts")).toContain('publisher.startRun({ kind: "chat.title" satisfies ChatRunKind');
  });

  it("compiles strict, and a further gen changes nothing", async () => {
    expect(typecheck(dir)).toEqual([]);
    const again = await runGen({ projectDir: dir });
    expect(again.files.filter((f) => f.status !== "unchanged")).toEqual([]);
  }, 60_000);
});

describe("protos that lose a run kind", () => {
  it("its registerAppRunKinds entry is reported, never deleted", async () => {
    write(PROTO, read(PROTO).replace(' starts_run: "chat.title"', ""));
    const before = read(APP);
    const r = await runGen({ projectDir: dir });
    expect(r.exitCode).toBe(0);
    expect(r.notes).toEqual(['src/app.ts: run kind "chat.title" matches nothing in the protos any more; left in place (remove it yourself)']);
    expect(read(APP)).toBe(before);
  });
});

describe("an app that registers its run kinds itself", () => {
  it("gets the hooks stubs but no registerAppRunKinds call (that would register them twice), and one note; once it drops its own registration, gen adds the call", async () => {
    const d = makeProject("chat");
    try {
      expect((await runGen({ projectDir: d })).exitCode).toBe(0);
      const app = join(d, APP);
      writeFileSync(join(d, "src/runs.ts"), 'import type { AppHub } from "./gen/app_sessionstream.js";\nexport function registerRuns(hub: AppHub): void {\n  hub.registerRunKind("chat.answer", {});\n}\n');
      const own = readFileSync(app, "utf8").replace('import { createAppRegistry } from "./gen/app_sessionstream.js";', 'import { createAppRegistry } from "./gen/app_sessionstream.js";\nimport { registerRuns } from "./runs.js";');
      writeFileSync(app, own);
      const proto = join(d, PROTO);
      writeFileSync(proto, readFileSync(proto, "utf8").replace('{ name: "ChatStartInference" }', '{ name: "ChatStartInference" starts_run: "chat.answer" }'));
      const r = await runGen({ projectDir: d });
      expect(r.exitCode).toBe(0);
      expect(readFileSync(app, "utf8")).toBe(own);
      expect(r.files.filter((f) => f.status === "created").map((f) => f.path)).toEqual(["src/runs/chat-answer.ts"]);
      expect(r.notes).toEqual([
        'src/app.ts: registers run kinds itself (hub.registerRunKind), so gen did not add registerAppRunKinds; make sure it registers "chat.answer" (hooks stubs: src/runs/chat-answer.ts), or switch to registerAppRunKinds(hub, { ... }), which checks that every kind has hooks',
      ]);
      const again = await runGen({ projectDir: d });
      expect(again.notes).toEqual([]);
      expect(again.files.filter((f) => f.status !== "unchanged")).toEqual([]);

      // It switches: the hand registration goes, and the next gen adds registerAppRunKinds. The generated
      // src/gen/app_sessionstream.ts it imports calls hub.registerRunKind too, but that is gen's own, not by hand.
      expect(readFileSync(join(d, "src/gen/app_sessionstream.ts"), "utf8")).toContain("hub.registerRunKind(");
      rmSync(join(d, "src/runs.ts"));
      writeFileSync(app, own.replace('import { registerRuns } from "./runs.js";\n', ""));
      const switched = await runGen({ projectDir: d });
      expect(switched.exitCode).toBe(0);
      expect(switched.notes).toEqual([]);
      expect(switched.files.find((f) => f.path === APP)?.added).toEqual(["chat.answer"]);
      expect(readFileSync(app, "utf8")).toContain('  registerAppRunKinds(hub, {\n    "chat.answer": chatAnswerHooks,\n  });\n  return hub;');
    } finally {
      removeProject(d);
    }
  }, 60_000);
});

describe("run kind names that gen refuses", () => {
  it("a starts_run that is not a kind name, and two kinds that map to one hooks stub: exit 2, nothing written", async () => {
    const d = makeProject("chat");
    try {
      const proto = join(d, PROTO);
      const text = readFileSync(proto, "utf8");
      writeFileSync(proto, text.replace('{ name: "ChatStartInference" }', '{ name: "ChatStartInference" starts_run: "chat answer" }'));
      const bad = await runGen({ projectDir: d });
      expect(bad.exitCode).toBe(2);
      expect(bad.errors).toEqual([
        'proto/chat/v1/chat.proto:12:10: command "ChatStartInference": starts_run "chat answer" is not a run kind name; use letters, digits, ".", "_" or "-" (e.g. "chat.answer")',
      ]);
      writeFileSync(
        proto,
        text
          .replace('{ name: "ChatStartInference" }', '{ name: "ChatStartInference" starts_run: "chat.answer" }')
          .replace('{ name: "ChatStopInference" }', '{ name: "ChatStopInference" starts_run: "chat_answer" }'),
      );
      const clash = await runGen({ projectDir: d });
      expect(clash.exitCode).toBe(2);
      expect(clash.errors).toEqual([
        'proto/chat/v1/chat.proto:18:10: run kind "chat_answer" and run kind "chat.answer" (proto/chat/v1/chat.proto:12:10) both map to the hooks stub src/runs/chat-answer.ts; rename one of them (gen writes nothing until then)',
      ]);
      expect(clash.files).toEqual([]);
    } finally {
      removeProject(d);
    }
  }, 60_000);
});
