// gen on stubs written the way users write them (the cases of issue 11: a
// last case without a comma followed by a comment holding one, a one-line
// handler map with an inline comment, a closing `};` sharing its line, CRLF
// and tabs): the merged project compiles. A stub that does not parse is left
// unchanged, gen says what to add by hand and exits 1.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { genCommand } from "../../src/cli/commands/gen.js";
import { runGen } from "../../src/codegen/gen.js";
import { captureIO, makeProject, removeProject, typecheck } from "./helpers.js";

let dir: string;
const read = (p: string) => readFileSync(join(dir, p), "utf8");
const write = (p: string, text: string) => writeFileSync(join(dir, p), text);
const PROTO = "proto/chat/v1/chat.proto";

const addToProto = (suffix: string) =>
  write(
    PROTO,
    read(PROTO) +
      `
message InferenceFailed${suffix}Event {
  option (sessionstream.v1.event) = { name: "ChatInferenceFailed${suffix}" ui_events: "ChatMessageStatus" timeline_entities: "ChatMessage" };
  string message_id = 1;
}

message Retry${suffix}Command {
  option (sessionstream.v1.command) = { name: "ChatRetry${suffix}" };
  string message_id = 1;
}
`,
  );

beforeAll(async () => {
  dir = makeProject("chat");
  expect((await runGen({ projectDir: dir })).exitCode).toBe(0);
}, 60_000);
afterAll(() => removeProject(dir));

describe("merging into stubs as users write them", () => {
  let edited: Record<string, string>;
  beforeAll(() => {
    edited = {
      // The last case has no comma and a comment with a comma after it.
      "src/projections/chat-ui.ts": read("src/projections/chat-ui.ts").replace(
        /  ChatInferenceStopped\(event, session, view\) \{[\s\S]*?\n  \},\n\};/,
        "  ChatInferenceStopped: (e) => [] // shows it, then done\n};",
      ),
      // CRLF and tabs, and the closing `};` shares its line with the last case.
      "src/projections/chat-timeline.ts": read("src/projections/chat-timeline.ts")
        .replace(/^( {2})+/gm, (m) => "\t".repeat(m.length / 2))
        .replace(/\t\},\n\};/, "\t} };")
        .replace(/\n/g, "\r\n"),
      // A one-line handler map with an inline comment holding a comma.
      "src/app.ts": read("src/app.ts").replace(
        /registerChatHandlers\(hub, \{[\s\S]*?\}\);/,
        "registerChatHandlers(hub, { ChatStartInference: chatStartInference, ChatStopInference: chatStopInference /* one, inline */ });",
      ),
    };
    for (const [p, text] of Object.entries(edited)) {
      expect(read(p)).not.toBe(text);
      write(p, text);
    }
    expect(typecheck(dir)).toEqual([]);
    addToProto("");
  }, 60_000);

  it("adds the new case and handler to every stub and the project compiles strict", async () => {
    const result = await runGen({ projectDir: dir });
    expect([result.exitCode, result.errors]).toEqual([0, []]);
    for (const p of Object.keys(edited)) {
      expect(result.files.find((f) => f.path === p)?.added).toEqual([p === "src/app.ts" ? "ChatRetry" : "ChatInferenceFailed"]);
    }
    expect(read("src/projections/chat-ui.ts")).toContain(
      "  ChatInferenceStopped: (e) => [], // shows it, then done\n  ChatInferenceFailed(event, session, view) {\n",
    );
    const timeline = read("src/projections/chat-timeline.ts");
    expect(timeline).toContain("\t},\r\n\tChatInferenceFailed(event, session, view) {\r\n\t\t// May emit: ChatMessage");
    expect(timeline.replace(/\r\n/g, "")).not.toContain("\n");
    expect(timeline).toMatch(/\t\},\r\n\};\r\n$/);
    expect(read("src/app.ts")).toContain(
      "registerChatHandlers(hub, { ChatStartInference: chatStartInference, ChatStopInference: chatStopInference, /* one, inline */ ChatRetry: chatRetry });",
    );
    expect(typecheck(dir)).toEqual([]);
    expect((await runGen({ projectDir: dir, check: true })).exitCode).toBe(0);
  }, 60_000);

  it("leaves a stub that does not parse unchanged, says what to add by hand, writes the rest, exits 1", async () => {
    const broken = read("src/app.ts").replace("export default createApp;", "export default createApp(;");
    write("src/app.ts", broken);
    addToProto("Again");
    const io = captureIO();
    await genCommand(io).exitOverride().parseAsync(["--cwd", dir], { from: "user" });
    expect(io.exitCode).toBe(1);
    expect(read("src/app.ts")).toBe(broken);
    const line = broken.split("\n").findIndex((l) => l.startsWith("export default createApp(;")) + 1;
    const mapLine = broken.split("\n").findIndex((l) => l.includes("registerChatHandlers(hub, {")) + 1;
    expect(io.stderr).toEqual([
      `src/app.ts: does not parse (${line}:26: ')' expected.); gen left it unchanged. Add by hand, then run gen again:`,
      '  at the top: import { chatRetryAgain } from "./handlers/chat-retry-again.js";',
      `  in registerChatHandlers(hub, { ... }) (line ${mapLine}): ChatRetryAgain: chatRetryAgain,`,
      "gen did not finish: the stubs above were left unchanged; add the lines by hand (or fix the file) and run gen again",
    ]);
    // Everything else was written: the new handler stub, the merged case maps, the generated code.
    expect(io.stdout).toContain("created   src/handlers/chat-retry-again.ts");
    expect(io.stdout).toContain("updated   src/projections/chat-ui.ts (added ChatInferenceFailedAgain)");
    expect(io.stdout.some((l) => l.includes("src/app.ts"))).toBe(false);
    expect(read("src/projections/chat-ui.ts")).toContain("ChatInferenceFailedAgain(event, session, view) {");
  }, 60_000);
});
