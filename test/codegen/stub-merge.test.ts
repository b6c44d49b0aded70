// Stub safety: user edits survive byte for byte when protos gain events and
// commands; gen adds only the missing cases, handlers and imports; --check
// goes red then green; removed events are reported, never deleted.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGen } from "../../src/codegen/gen.js";
import { makeProject, readTree, removeProject, typecheck } from "./helpers.js";

let dir: string;
const read = (p: string) => readFileSync(join(dir, p), "utf8");
const write = (p: string, text: string) => writeFileSync(join(dir, p), text);
const UI = "src/projections/chat-ui.ts";
const APP = "src/app.ts";
const HANDLER = "src/handlers/chat-start-inference.ts";
const PROTO = "proto/chat/v1/chat.proto";

const NEW_PROTO_MESSAGES = `
message InferenceFailedEvent {
  option (sessionstream.v1.event) = { name: "ChatInferenceFailed" ui_events: "ChatMessageStatus" timeline_entities: "ChatMessage" };
  string message_id = 1;
  string reason = 2;
}

message RetryInferenceCommand {
  option (sessionstream.v1.command) = { name: "ChatRetryInference" };
  string message_id = 1;
}
`;

let editedUI: string;
let editedHandler: string;
let editedApp: string;

beforeAll(async () => {
  dir = makeProject("chat");
  expect((await runGen({ projectDir: dir })).exitCode).toBe(0);
  // The user edits: odd formatting, comments, real code, a trailing entry without a comma.
  editedUI = read(UI)
    .replace(
      /  ChatInferenceStarted\(event, session, view\) \{[\s\S]*?\n  \},\n/,
      "  // my comment, keep me\n  ChatInferenceStarted(event) {   return [ { name: \"ChatMessageStarted\", payload: { messageId: event.payload.messageId } } ] },\n",
    )
    .replace(/  ChatInferenceStopped\(event, session, view\) \{[\s\S]*?\n  \},\n/, "  ChatInferenceStopped: null\n");
  write(UI, editedUI);
  editedHandler = read(HANDLER).replace(/throw new SessionstreamError[^\n]*\n/, "await publisher.publish('ChatInferenceStarted', { messageId: 'x', prompt: command.payload.prompt }); // mine\n");
  write(HANDLER, editedHandler);
  editedApp = read(APP).replace("export default createApp;", "// wired by hand\nexport default createApp;");
  write(APP, editedApp);
  write(PROTO, read(PROTO) + NEW_PROTO_MESSAGES);
}, 180_000);
afterAll(() => removeProject(dir));

describe("re-running gen after the protos grew", () => {
  it("--check goes red, lists the stale and missing files, and writes nothing", async () => {
    const before = readTree(dir);
    const result = await runGen({ projectDir: dir, check: true });
    expect(result.exitCode).toBe(1);
    const changed = result.files.filter((f) => f.status !== "unchanged").map((f) => `${f.status} ${f.path}`);
    expect(changed.filter((f) => f.includes("/gen/"))).toEqual(
      expect.arrayContaining(["updated src/gen/chat/v1/chat_pb.ts", "updated src/gen/chat/v1/chat_sessionstream.ts"]),
    );
    expect(changed.filter((f) => !f.includes("/gen/"))).toEqual([
      "updated src/app.ts",
      "created src/handlers/chat-retry-inference.ts",
      "updated src/projections/chat-timeline.ts",
      "updated src/projections/chat-ui.ts",
    ]);
    expect(readTree(dir)).toEqual(before);
  });

  it("adds the new case arm and keeps every user byte", async () => {
    const result = await runGen({ projectDir: dir });
    expect(result.exitCode).toBe(0);
    expect(result.files.find((f) => f.path === UI)).toMatchObject({ status: "updated", added: ["ChatInferenceFailed"] });
    const arm = [
      "  ChatInferenceFailed(event, session, view) {",
      "    // May emit: ChatMessageStatus.",
      "    return [];",
      "  },",
      "",
    ].join("\n");
    const now = read(UI);
    // The user's last entry had no trailing comma: gen added exactly one, and the arm before the closing brace.
    const expected = editedUI.replace("  ChatInferenceStopped: null\n", `  ChatInferenceStopped: null,\n${arm}`);
    expect(now).toBe(expected);
    expect(now).toContain("  // my comment, keep me\n  ChatInferenceStarted(event) {   return [");
  });

  it("creates the new handler stub, wires it into the app, and leaves edited handlers alone", () => {
    expect(read(HANDLER)).toBe(editedHandler);
    expect(read("src/handlers/chat-retry-inference.ts")).toContain(
      'throw new SessionstreamError("not_implemented", "not implemented: edit src/handlers/chat-retry-inference.ts");',
    );
    const app = read(APP);
    // The import goes after the last import; the property after the last handler of the same file.
    const expected = editedApp
      .replace(
        'import { deleteTaskCommand } from "./handlers/delete-task-command.js";',
        'import { deleteTaskCommand } from "./handlers/delete-task-command.js";\nimport { chatRetryInference } from "./handlers/chat-retry-inference.js";',
      )
      .replace("    ChatStopInference: chatStopInference,\n", "    ChatStopInference: chatStopInference,\n    ChatRetryInference: chatRetryInference,\n");
    expect(app).toBe(expected);
  });

  it("--check is green afterwards, and the merged project compiles strict", async () => {
    const result = await runGen({ projectDir: dir, check: true });
    expect(result.exitCode).toBe(0);
    expect(typecheck(dir)).toEqual([]);
  }, 180_000);

  it("reports a removed event and leaves its case in place", async () => {
    write(PROTO, read(PROTO).replace(NEW_PROTO_MESSAGES, ""));
    const ui = read(UI);
    const result = await runGen({ projectDir: dir });
    expect(result.exitCode).toBe(0);
    expect(read(UI)).toBe(ui);
    expect(result.notes).toEqual([
      'src/projections/chat-ui.ts: "ChatInferenceFailed" matches nothing in the protos any more; left in place (remove it yourself)',
      'src/projections/chat-timeline.ts: "ChatInferenceFailed" matches nothing in the protos any more; left in place (remove it yourself)',
      'src/app.ts: "ChatRetryInference" matches nothing in the protos any more; left in place (remove it yourself)',
    ]);
  });
});
