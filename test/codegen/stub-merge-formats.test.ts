// Syntax-aware stub merging over many ways of writing the same case map and
// handler map: trailing commas or not, comments holding commas and braces,
// one-line objects, CRLF, tabs, a closing brace sharing its line with code.
// Every merge parses, keeps every user byte, follows the file's layout, and
// is idempotent; a file that does not parse is left unchanged with the lines
// to add by hand.
import type { DescFile } from "@bufbuild/protobuf";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { FileModel } from "../../src/codegen/annotations.js";
import { compileProtos } from "../../src/codegen/compile-protos.js";
import { mergeAppStub, mergeProjectionStub, syntaxError, type MergeResult } from "../../src/codegen/merge-stubs.js";
import { annotatedModels, relativeSpecifier } from "../../src/codegen/plugin.js";
import { FIXTURES } from "./helpers.js";

let tasks: FileModel;
// Not annotated as StubImports: that interface may grow members these merges do not use.
const imports = {
  runtime: "sessionstream",
  generated: (from: string) => relativeSpecifier(from, "gen/tasks/v1/tasks_sessionstream.ts", "js"),
  app: (from: string) => relativeSpecifier(from, "gen/app_sessionstream.ts", "js"),
  stub: (from: string, to: string) => relativeSpecifier(from, to, "js"),
  displayPath: (stub: string) => `src/${stub}`,
};

beforeAll(async () => {
  const compiled = await compileProtos({ roots: [join(FIXTURES, "chat/proto")] });
  const all = compiled.fileDescriptorSet.file.map((f) => compiled.registry.getFile(f.name)).filter((f): f is DescFile => !!f);
  tasks = annotatedModels(compiled.files, all).find((m) => m.file.name === "tasks/v1/tasks")!;
}, 60_000);

const DECL = "export const tasksUICases: TasksUIProjectionCases =";

/** Case maps holding TaskAdded only: merging adds TaskDeleted. */
const CASE_MAPS: Record<string, string> = {
  "trailing comma": `${DECL} {\n  TaskAdded: (e) => [],\n};\n`,
  "no trailing comma": `${DECL} {\n  TaskAdded: (e) => []\n};\n`,
  "line comment with a comma after the last case": `${DECL} {\n  TaskAdded: (e) => [] // shows it, then done\n};\n`,
  "block comment with commas and braces": `${DECL} {\n  TaskAdded: (e) => [] /* { a, b }, } */\n};\n`,
  "comment line with a comma after the last case": `${DECL} {\n  TaskAdded: (e) => []\n  // later: TaskDeleted, maybe }\n};\n`,
  "method with braces and commas in its body": `${DECL} {\n  TaskAdded(event) {\n    const s = "}, {";\n    return [];\n  }\n};\n`,
  "quoted key, comment with a brace": `${DECL} {\n  "TaskAdded": null // }, {\n};\n`,
  "computed key": `${DECL} {\n  [TasksEventNames.TaskAdded]: null\n};\n`,
  "computed string key": `${DECL} {\n  ["TaskAdded"]: null\n};\n`,
  "one-line object": `${DECL} { TaskAdded: (e) => [] };\n`,
  "one-line object with trailing comma and comment": `${DECL} { TaskAdded: null, /* x, y } */ };\n`,
  "empty one-line object": `${DECL} {};\n`,
  "closing brace shares a line": `${DECL} {\n  TaskAdded: (e) => [] };\n`,
  "closing brace shares a line with more code": `${DECL} {\n  TaskAdded: (e) => [], }; export const other = 1; // keep\n`,
  "satisfies wrapper": `export const tasksUICases = {\n  TaskAdded: null\n} satisfies TasksUIProjectionCases;\n`,
  "tabs": `${DECL} {\n\tTaskAdded(event) {\n\t\treturn [];\n\t}\n};\n`,
  "four spaces": `${DECL} {\n    TaskAdded(event) {\n        return [];\n    }\n};\n`,
  "CRLF, trailing comma": `${DECL} {\r\n  TaskAdded: (e) => [],\r\n};\r\n`,
  "CRLF, no trailing comma, comment with a comma": `${DECL} {\r\n  TaskAdded: (e) => [] // a, b\r\n};\r\n`,
  "CRLF and tabs, closing brace shares a line": `${DECL} {\r\n\tTaskAdded: null };\r\n`,
};

/** The handler call holding AddTaskCommand only: merging adds DeleteTaskCommand. */
const APP_HEAD = `import { addTaskCommand } from "./handlers/add-task-command.js";\n`;
const APPS: Record<string, string> = {
  "trailing comma": `${APP_HEAD}export function createApp(hub) {\n  registerTasksHandlers(hub, {\n    AddTaskCommand: addTaskCommand,\n  });\n}\n`,
  "no trailing comma, comment with a comma": `${APP_HEAD}export function createApp(hub) {\n  registerTasksHandlers(hub, {\n    AddTaskCommand: addTaskCommand // mine, keep\n  });\n}\n`,
  "one-line map, inline comment with a comma": `${APP_HEAD}registerTasksHandlers(hub, { AddTaskCommand: addTaskCommand /* one, inline */ });\n`,
  "one-line map, trailing comma": `${APP_HEAD}registerTasksHandlers(hub, { AddTaskCommand: addTaskCommand, });\n`,
  "closing brace shares a line": `${APP_HEAD}export function createApp(hub) {\n  registerTasksHandlers(hub, {\n    AddTaskCommand: addTaskCommand });\n}\n`,
  "last import has a comment": `import { addTaskCommand } from "./handlers/add-task-command.js"; // first, {x}\nregisterTasksHandlers(hub, {\n  AddTaskCommand: addTaskCommand,\n});\n`,
  "tabs": `${APP_HEAD}export function createApp(hub) {\n\tregisterTasksHandlers(hub, {\n\t\tAddTaskCommand: addTaskCommand,\n\t});\n}\n`,
  "CRLF": `${APP_HEAD.replace("\n", "\r\n")}export function createApp(hub) {\r\n  registerTasksHandlers(hub, {\r\n    AddTaskCommand: addTaskCommand\r\n  });\r\n}\r\n`,
  "no imports": `registerTasksHandlers(hub, {\n  AddTaskCommand: addTaskCommand,\n});\n`,
};

/** True when every non-space character of `original` appears, in order, in `merged` (nothing removed or reordered). */
function keepsEveryByte(original: string, merged: string): boolean {
  const a = original.replace(/\s/g, "");
  const b = merged.replace(/\s/g, "");
  let i = 0;
  for (const ch of b) if (ch === a[i]) i++;
  return i === a.length;
}

function expectSound(original: string, r: MergeResult): void {
  expect(r.error).toBeUndefined();
  expect(syntaxError(r.content)).toBeUndefined();
  expect(keepsEveryByte(original, r.content)).toBe(true);
  // No new trailing whitespace; the file's line endings are kept.
  const trailing = (t: string) => t.split(/\r?\n/).filter((l) => /[ \t]$/.test(l)).length;
  expect(trailing(r.content)).toBe(trailing(original));
  if (original.includes("\r\n")) expect(r.content.replace(/\r\n/g, "")).not.toContain("\n");
  else expect(r.content).not.toContain("\r");
}

describe("merging a case map", () => {
  for (const [variant, text] of Object.entries(CASE_MAPS)) {
    it(variant, () => {
      const r = mergeProjectionStub(text, tasks, "ui");
      expect(r.added).toEqual(variant.startsWith("empty") ? ["TaskAdded", "TaskDeleted"] : ["TaskDeleted"]);
      expectSound(text, r);
      if (/^\t/m.test(text)) expect(r.content).toMatch(/^\tTaskDeleted\(event, session, view\) \{\r?\n\t\t\/\/ May emit/m);
      if (text.includes("\n    TaskAdded")) expect(r.content).toContain("\n    TaskDeleted(event, session, view) {");
      // Merging again finds every case: nothing to add, nothing changed.
      const again = mergeProjectionStub(r.content, tasks, "ui");
      expect([again.added, again.content]).toEqual([[], r.content]);
    });
  }

  it("adds exactly one comma before a trailing comment and the arm before the brace", () => {
    const r = mergeProjectionStub(CASE_MAPS["line comment with a comma after the last case"]!, tasks, "ui");
    expect(r.content).toBe(
      `${DECL} {\n  TaskAdded: (e) => [], // shows it, then done\n` +
        `  TaskDeleted(event, session, view) {\n    // May emit: TaskRemoved.\n    return [];\n  },\n};\n`,
    );
  });

  it("moves a closing brace that shares its line to a line of its own, without trailing spaces", () => {
    const r = mergeProjectionStub(CASE_MAPS["closing brace shares a line with more code"]!, tasks, "ui");
    expect(r.content).toBe(
      `${DECL} {\n  TaskAdded: (e) => [],\n` +
        `  TaskDeleted(event, session, view) {\n    // May emit: TaskRemoved.\n    return [];\n  },\n}; export const other = 1; // keep\n`,
    );
  });

  it("leaves a file that does not parse unchanged and says what to add by hand", () => {
    const broken = `${DECL} {\n  TaskAdded: (e) => [],\n};\nconst x = ;\n`;
    const r = mergeProjectionStub(broken, tasks, "ui");
    expect(r.content).toBe(broken);
    expect(r.added).toEqual([]);
    expect(r.error).toBe("does not parse (4:11: Expression expected.); gen left it unchanged");
    expect(r.manual).toEqual([
      "in the case map tasksUICases (line 1), before its closing brace:",
      "  TaskDeleted(event, session, view) {\n    // May emit: TaskRemoved.\n    return [];\n  },",
    ]);
  });

  it("a file so broken that no case map is found is an error too, not a silent skip", () => {
    const r = mergeProjectionStub(`${DECL}\n`, tasks, "ui");
    expect(r.error).toBe("does not parse (1:52: Expression expected.); gen left it unchanged");
    expect(r.manual?.[0]).toBe('the case map "export const tasksUICases: TasksUIProjectionCases = { ... }" with one case per event:');
  });
});

describe("merging the handler map of app.ts", () => {
  for (const [variant, text] of Object.entries(APPS)) {
    it(variant, () => {
      const r = mergeAppStub(text, tasks, imports);
      expect(r.added).toEqual(["DeleteTaskCommand"]);
      expectSound(text, r);
      expect(r.content).toContain('import { deleteTaskCommand } from "./handlers/delete-task-command.js";');
      expect(r.content).toMatch(/DeleteTaskCommand: deleteTaskCommand/);
      const again = mergeAppStub(r.content, tasks, imports);
      expect([again.added, again.content]).toEqual([[], r.content]);
    });
  }

  it("keeps a one-line map on one line", () => {
    const r = mergeAppStub(APPS["one-line map, inline comment with a comma"]!, tasks, imports);
    expect(r.content).toBe(
      `${APP_HEAD}import { deleteTaskCommand } from "./handlers/delete-task-command.js";\n` +
        `registerTasksHandlers(hub, { AddTaskCommand: addTaskCommand, /* one, inline */ DeleteTaskCommand: deleteTaskCommand });\n`,
    );
  });

  it("fills an empty one-line map with spaces inside the braces", () => {
    const r = mergeAppStub(`${APP_HEAD}registerTasksHandlers(hub, {});\n`, tasks, imports);
    expect(r.content).toContain("registerTasksHandlers(hub, { AddTaskCommand: addTaskCommand, DeleteTaskCommand: deleteTaskCommand });");
  });

  it("puts the import after a comment sharing the last import's line, in the file's line endings and indentation", () => {
    expect(mergeAppStub(APPS["last import has a comment"]!, tasks, imports).content.split("\n").slice(0, 2)).toEqual([
      'import { addTaskCommand } from "./handlers/add-task-command.js"; // first, {x}',
      'import { deleteTaskCommand } from "./handlers/delete-task-command.js";',
    ]);
    expect(mergeAppStub(APPS["CRLF"]!, tasks, imports).content).toContain(
      'add-task-command.js";\r\nimport { deleteTaskCommand } from "./handlers/delete-task-command.js";\r\n',
    );
    expect(mergeAppStub(APPS["tabs"]!, tasks, imports).content).toContain("\t\tAddTaskCommand: addTaskCommand,\n\t\tDeleteTaskCommand: deleteTaskCommand,\n\t});");
  });

  it("imports under an alias when the file already uses the handler's name", () => {
    const text = `${APP_HEAD}const deleteTaskCommand = "mine";\nregisterTasksHandlers(hub, { AddTaskCommand: addTaskCommand });\n`;
    const r = mergeAppStub(text, tasks, imports);
    expect(r.content).toContain('import { deleteTaskCommand as deleteTaskCommandHandler } from "./handlers/delete-task-command.js";');
    expect(r.content).toContain("DeleteTaskCommand: deleteTaskCommandHandler });");
    expect(r.content).toContain('const deleteTaskCommand = "mine";');
  });

  it("reuses a handler the file already imports, under its local name", () => {
    const text = `import { deleteTaskCommand as del } from "./handlers/delete-task-command.js";\n${APP_HEAD}registerTasksHandlers(hub, { AddTaskCommand: addTaskCommand });\n`;
    const r = mergeAppStub(text, tasks, imports);
    expect(r.content).toBe(text.replace("addTaskCommand });", "addTaskCommand, DeleteTaskCommand: del });"));
  });

  it("uses the handler identifiers it is given", () => {
    const r = mergeAppStub(APPS["one-line map, trailing comma"]!, tasks, imports, { handlerIdentifiers: new Map([["DeleteTaskCommand", "deleteTaskCommandHandler"]]) });
    expect(r.content).toContain('import { deleteTaskCommandHandler } from "./handlers/delete-task-command.js";');
    expect(r.content).toContain("{ AddTaskCommand: addTaskCommand, DeleteTaskCommand: deleteTaskCommandHandler, });");
  });

  it("leaves an app.ts that does not parse unchanged and says what to add by hand", () => {
    const broken = `${APP_HEAD}registerTasksHandlers(hub, { AddTaskCommand: addTaskCommand });\nexport default createApp(;\n`;
    const r = mergeAppStub(broken, tasks, imports);
    expect(r.content).toBe(broken);
    expect(r.error).toMatch(/^does not parse \(3:26: .*\); gen left it unchanged$/);
    expect(r.manual).toEqual([
      'at the top: import { deleteTaskCommand } from "./handlers/delete-task-command.js";',
      "in registerTasksHandlers(hub, { ... }) (line 2): DeleteTaskCommand: deleteTaskCommand,",
    ]);
  });
});
