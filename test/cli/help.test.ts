// `sessionstream help`: topics from docs/ (the same markdown the README
// links), one topic printed whole, `help <command>` as commander's help, an
// unknown topic exits 2 naming the topics.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test, vi } from "vitest";
import { createProgram } from "../../src/cli/main.js";

const repo = join(import.meta.dirname, "..", "..");

async function run(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = "";
  let err = "";
  const w = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((out += String(chunk)), true));
  const e = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void (err += a.join(" ") + "\n"));
  process.exitCode = 0;
  try {
    await createProgram().parseAsync(["node", "sessionstream", "help", ...args]);
  } finally {
    w.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, code };
}

afterEach(() => vi.restoreAllMocks());

describe("sessionstream help", () => {
  test("lists every docs/*.md as a topic with its title, in reading order", async () => {
    const { out, code } = await run();
    expect(code).toBe(0);
    const files = readdirSync(join(repo, "docs")).filter((f) => f.endsWith(".md"));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) {
      const title = /^# (.+)$/m.exec(readFileSync(join(repo, "docs", f), "utf8"))![1]!;
      expect(out).toMatch(new RegExp(`^  ${f.slice(0, -3)} +${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    }
    const order = ["concepts", "protocol", "codegen", "schema-vet", "testing", "troubleshooting"].map((t) => out.indexOf(`  ${t} `));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(out).toContain("Commands: init, dev, start, schema-vet, gen, help");
  });

  test("prints one topic: the markdown file itself", async () => {
    const { out, code } = await run("troubleshooting");
    expect(code).toBe(0);
    expect(out).toBe(readFileSync(join(repo, "docs/troubleshooting.md"), "utf8"));
    for (const symptom of ["A command validates but nothing changes", "Live UI works but reload loses state", "Hydrated state differs from live state", "Events arrive out of expected order"]) {
      expect(out).toContain(`## ${symptom}`);
    }
  });

  test("help <command> prints that command's usage; an unknown topic exits 2 naming the topics", async () => {
    const gen = await run("gen");
    expect(gen.out).toMatch(/^Usage: sessionstream gen/);
    const bad = await run("nope");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^error: no help topic "nope"; topics: concepts, protocol, codegen, schema-vet, testing, troubleshooting/);
  });

  test("the README links every docs page (one source)", () => {
    const readme = readFileSync(join(repo, "README.md"), "utf8");
    for (const f of readdirSync(join(repo, "docs")).filter((x) => x.endsWith(".md"))) expect(readme).toContain(`(docs/${f})`);
  });
});
