// The `gen` verb in-process: what it prints, its exit codes, and that a
// broken proto or config writes nothing.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { genCommand } from "../../src/cli/commands/gen.js";
import { captureIO, makeProject, removeProject } from "../codegen/helpers.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeProject));

async function gen(dir: string, ...args: string[]) {
  const io = captureIO();
  await genCommand(io).exitOverride().parseAsync(["--cwd", dir, ...args], { from: "user" });
  return io;
}

describe("sessionstream gen", () => {
  it("prints created, then unchanged; --check is green on a fresh tree", async () => {
    const dir = makeProject("chat");
    dirs.push(dir);
    writeFileSync(join(dir, "sessionstream.config.json"), JSON.stringify({ outDir: "src/generated", stubsDir: "src" }));
    const first = await gen(dir);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain("created   src/generated/chat/v1/chat_pb.ts");
    const total = first.stdout.filter((l) => l.startsWith("created ")).length;
    expect(first.stdout.at(-1)).toBe(`${total} created, 0 updated, 0 unchanged`);
    expect(readFileSync(join(dir, "src/projections/chat-ui.ts"), "utf8")).toContain('from "../generated/chat/v1/chat_sessionstream.js"');
    const second = await gen(dir);
    expect(second.stdout.at(-1)).toBe(`0 created, 0 updated, ${total} unchanged`);
    const check = await gen(dir, "--check");
    expect([check.exitCode, check.stdout.at(-1)]).toEqual([0, "generated files are up to date"]);
  }, 60_000);

  it("--check lists stale files and exits 1", async () => {
    const dir = makeProject("chat");
    dirs.push(dir);
    await gen(dir);
    const path = join(dir, "src/gen/chat/v1/chat_sessionstream.ts");
    writeFileSync(path, readFileSync(path, "utf8") + "// hand edit\n");
    const check = await gen(dir, "--check");
    expect(check.exitCode).toBe(1);
    expect(check.stdout.filter((l) => !l.startsWith("unchanged"))).toEqual([
      "stale     src/gen/chat/v1/chat_sessionstream.ts",
      "generated files are stale: run `sessionstream gen`",
    ]);
    expect(readFileSync(path, "utf8")).toContain("// hand edit");
  }, 60_000);

  it("a broken proto prints the compiler's file:line:col, exits 2 and writes nothing", async () => {
    const dir = makeProject("chat");
    dirs.push(dir);
    const proto = join(dir, "proto/chat/v1/chat.proto");
    writeFileSync(proto, readFileSync(proto, "utf8").replace("string prompt = 1;", "string prompt = ;"));
    const io = await gen(dir);
    expect(io.exitCode).toBe(2);
    expect(io.stderr[0]).toBe(`${proto}:13:3: missing message field tag in declaration`);
    expect(io.stderr.at(-1)).toBe("nothing was written");
    expect(existsSync(join(dir, "src"))).toBe(false);
  }, 60_000);

  it("an unknown config key exits 2 naming it", async () => {
    const dir = makeProject("chat");
    dirs.push(dir);
    writeFileSync(join(dir, "sessionstream.config.json"), JSON.stringify({ outdir: "x" }));
    const io = await gen(dir);
    expect(io.exitCode).toBe(2);
    expect(io.stderr[0]).toContain('unknown key "outdir" (known: protoRoots, outDir, stubsDir, importExtension)');
    expect(existsSync(join(dir, "src"))).toBe(false);
  }, 60_000);
});
