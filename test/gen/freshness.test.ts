// src/gen is generated from proto/ and checked in: fail when it is stale,
// the way protobuf-es checks its own generated code.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, expect, test } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const out = mkdtempSync(join(tmpdir(), "ss-gen-fresh-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test("src/gen matches a fresh `buf generate` of proto/", () => {
  const template = readFileSync(join(root, "buf.gen.yaml"), "utf8")
    .replace("node_modules/.bin/protoc-gen-es", join(root, "node_modules/.bin/protoc-gen-es"))
    .replace("out: src/gen", `out: ${out}`);
  const templatePath = join(out, "buf.gen.yaml");
  writeFileSync(templatePath, template);
  execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--template", templatePath], { cwd: root });
  const fresh = files(out).filter((f) => f.endsWith(".ts")).map((f) => relative(out, f)).sort();
  const checkedIn = files(join(root, "src/gen")).map((f) => relative(join(root, "src/gen"), f)).sort();
  expect(checkedIn, "run `npx buf generate` and commit src/gen").toEqual(fresh);
  for (const f of fresh) {
    expect(readFileSync(join(root, "src/gen", f), "utf8"), `${f} is stale: run \`npx buf generate\``).toBe(
      readFileSync(join(out, f), "utf8"),
    );
  }
});
