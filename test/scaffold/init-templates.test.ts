// `init --template <name>` (chat by default) and `init --list`.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test, vi } from "vitest";
import { createProgram } from "../../src/cli/main.js";
import { templateList } from "../../src/cli/commands/init.js";
import { initProject, listTemplates } from "../../src/scaffold/init-project.js";
import type { SessionstreamError } from "../../src/index.js";

const root = mkdtempSync(join(tmpdir(), "ss-init-templates-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
  try {
    await createProgram().exitOverride().parseAsync(["node", "sessionstream", ...args]);
  } finally {
    log.mockRestore();
  }
  return lines.join("\n");
}

describe("init templates", () => {
  test("listTemplates: chat (the default) first, then agent, each with what it shows", () => {
    expect(listTemplates().map((t) => t.name)).toEqual(["chat", "agent"]);
    expect(listTemplates().every((t) => t.summary.length > 0)).toBe(true);
  });

  test("init --list prints the templates and writes nothing", async () => {
    const out = await cli("init", join(root, "not-created"), "--list");
    expect(out).toBe(templateList());
    expect(out.split("\n")).toEqual([
      "Templates (sessionstream init <dir> --template <name>):",
      "  chat   a chat that streams answers token by token (the default)",
      "  agent  an agent run: plan, reasoning, tool calls with arguments and results, errors, a final answer",
    ]);
    expect(existsSync(join(root, "not-created"))).toBe(false);
  });

  test("init --template agent writes the agent app; without --template it is the chat", async () => {
    const agent = join(root, "my-agent");
    expect(await cli("init", agent, "--template", "agent")).toMatch(/^Created my-agent/);
    for (const f of ["proto/agent/v1/agent.proto", "public/agent.js", "public/reduce.js", "src/fake-agent.ts", "src/tools.ts", "test/agent.test.ts", ".gitignore"]) {
      expect(existsSync(join(agent, f)), f).toBe(true);
    }
    expect(existsSync(join(agent, "proto/chat"))).toBe(false);
    expect(JSON.parse(readFileSync(join(agent, "package.json"), "utf8")).name).toBe("my-agent");

    const chat = join(root, "my-chat");
    await cli("init", chat);
    expect(existsSync(join(chat, "proto/chat/v1/chat.proto"))).toBe(true);
    expect(existsSync(join(chat, "proto/agent"))).toBe(false);
  });

  test("an unknown template is refused with the list of templates", () => {
    let error: SessionstreamError | undefined;
    try {
      initProject({ dir: join(root, "nope"), template: "todo" });
    } catch (err) {
      error = err as SessionstreamError;
    }
    expect(error?.code).toBe("invalid_argument");
    expect(error?.message).toBe('no template "todo"; templates: chat, agent (sessionstream init --list)');
    expect(existsSync(join(root, "nope"))).toBe(false);
  });
});
