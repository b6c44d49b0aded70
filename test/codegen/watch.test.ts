// `gen --watch`: a proto change triggers a regeneration.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it, vi } from "vitest";
import type { GenResult } from "../../src/codegen/gen.js";
import { watchGen } from "../../src/codegen/watch.js";
import { makeProject, removeProject } from "./helpers.js";

const dir = makeProject("chat");
afterAll(() => removeProject(dir));

it("regenerates after a .proto file changes", async () => {
  const results: GenResult[] = [];
  const w = watchGen({ projectDir: dir, debounceMs: 50 }, (r) => results.push(r));
  try {
    await w.idle();
    expect(results.map((r) => r.exitCode)).toEqual([0]);
    const proto = join(dir, "proto/chat/v1/chat.proto");
    writeFileSync(proto, `${readFileSync(proto, "utf8")}\nmessage PingCommand {\n  option (sessionstream.v1.command) = {};\n}\n`);
    await vi.waitFor(() => expect(results.length).toBeGreaterThanOrEqual(2), { timeout: 20_000, interval: 100 });
    await w.idle();
  } finally {
    w.close();
  }
  expect(readFileSync(join(dir, "src/gen/chat/v1/chat_sessionstream.ts"), "utf8")).toContain('PingCommand: "PingCommand"');
  expect(readFileSync(join(dir, "src/handlers/ping-command.ts"), "utf8")).toContain("not implemented: edit src/handlers/ping-command.ts");
}, 60_000);

it("regenerates after every save written through a temp file and a rename, not only the first", async () => {
  const results: GenResult[] = [];
  const w = watchGen({ projectDir: dir, debounceMs: 50 }, (r) => results.push(r));
  const proto = join(dir, "proto/chat/v1/chat.proto");
  try {
    await w.idle();
    for (let i = 1; i <= 3; i++) {
      const runs = results.length;
      writeFileSync(`${proto}.tmp`, `${readFileSync(proto, "utf8")}\nmessage Ping${i}Command {\n  option (sessionstream.v1.command) = {};\n}\n`);
      renameSync(`${proto}.tmp`, proto);
      await vi.waitFor(() => expect(results.length).toBeGreaterThan(runs), { timeout: 20_000, interval: 100 });
      await w.idle();
      expect(readFileSync(join(dir, "src/gen/chat/v1/chat_sessionstream.ts"), "utf8")).toContain(`Ping${i}Command: "Ping${i}Command"`);
    }
  } finally {
    w.close();
  }
}, 90_000);
