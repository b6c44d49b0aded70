import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { SessionstreamError } from "../../src/index.js";
import { initProject } from "../../src/scaffold/init-project.js";
import { initSummary } from "../../src/cli/commands/init.js";

const root = mkdtempSync(join(tmpdir(), "ss-init-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const repo = join(import.meta.dirname, "..", "..");

function codeAndMessage(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (err) {
    return [(err as SessionstreamError).code, (err as Error).message];
  }
  throw new Error("expected an error");
}

describe("initProject", () => {
  test("writes the chat app with its name and a local sessionstream dependency", () => {
    const dir = join(root, "My Chat");
    const result = initProject({ dir, sessionstream: repo });
    expect(result.name).toBe("my-chat");
    for (const f of ["package.json", "tsconfig.json", "sessionstream.config.json", ".gitignore", "proto/chat/v1/chat.proto", "public/index.html"]) {
      expect(result.files).toContain(f);
    }
    expect(result.files.some((f) => f.endsWith(".tmpl") || f.endsWith("_gitignore"))).toBe(false);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    expect(pkg.name).toBe("my-chat");
    expect(pkg.dependencies.sessionstream).toBe(`file:${repo}`);
    expect(pkg.allowScripts["better-sqlite3"]).toBe(true);
    // npm 11 runs the checkout's `prepare` (its build) on every install and warns unless it is covered.
    // (npm matches a directory dependency by its spec; `npm install-scripts ls` confirms it is covered.)
    expect(pkg.allowScripts[`file:${repo}`]).toBe(true);
    expect(readFileSync(join(dir, "proto/chat/v1/chat.proto"), "utf8")).toContain('import "sessionstream/v1/options.proto";');
    const summary = initSummary(result, root);
    expect(summary).toContain("npm install\n  npx sessionstream dev");
    expect(summary.split("\n")[0]).toBe(`Created my-chat in My Chat (${result.files.length} files, sessionstream file:${repo}).`);
  });

  test("the summary names the folder once, or not at all when it is the name", () => {
    const dir = join(root, "my-chat");
    const result = initProject({ dir });
    const head = (cwd: string) => initSummary(result, cwd).split("\n")[0];
    expect(head(root)).toBe(`Created my-chat (${result.files.length} files, sessionstream ${result.sessionstreamDependency}).`);
    expect(head(dir)).toBe(`Created my-chat in this folder (${result.files.length} files, sessionstream ${result.sessionstreamDependency}).`);
    expect(head(join(root, ".."))).toMatch(/^Created my-chat in ss-init-\w+\/my-chat \(/);
    expect(initSummary(result, dir)).not.toContain("cd ");
    // A registry dependency runs no install script: no allowScripts entry for it.
    expect(Object.keys(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).allowScripts).filter((k) => k.includes("file:"))).toEqual([]);
  });

  test("warns when the local checkout has no node_modules (npm ci was not run there)", () => {
    const checkout = join(root, "unbuilt-checkout");
    mkdirSync(checkout);
    writeFileSync(join(checkout, "package.json"), JSON.stringify({ name: "sessionstream", version: "0.0.0" }));
    const result = initProject({ dir: join(root, "with-unbuilt"), sessionstream: checkout });
    expect(result.notes).toEqual([`${checkout} has no node_modules: run \`npm ci\` there first (\`npm install\` here builds it)`]);
    expect(initSummary(result, root)).toContain(`warning: ${checkout} has no node_modules`);
    expect(initProject({ dir: join(root, "with-built"), sessionstream: repo }).notes).toEqual([]);
  });

  test("defaults the dependency to this package's version and honours --name", () => {
    const dir = join(root, "named");
    const version = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).version;
    const result = initProject({ dir, name: "@acme/chat" });
    expect(result.sessionstreamDependency).toBe(`^${version}`);
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name).toBe("@acme/chat");
  });

  test("refuses a non-empty folder unless forced, and loses nothing", () => {
    const dir = join(root, "busy");
    mkdirSync(dir);
    writeFileSync(join(dir, "notes.txt"), "mine");
    const [code, message] = codeAndMessage(() => initProject({ dir }));
    expect(code).toBe("invalid_argument");
    expect(message).toBe(`${dir} is not empty (notes.txt); choose an empty folder or pass --force`);
    expect(existsSync(join(dir, "package.json"))).toBe(false);
    initProject({ dir, force: true });
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("mine");
    expect(existsSync(join(dir, "package.json"))).toBe(true);
  });

  test("rejects a bad name and a missing local checkout", () => {
    expect(codeAndMessage(() => initProject({ dir: join(root, "x1"), name: "Bad Name" }))[1]).toBe(
      '"Bad Name" is not a valid npm package name; pass --name <name>',
    );
    expect(codeAndMessage(() => initProject({ dir: join(root, "x2"), sessionstream: "./no/such/dir" }))[1]).toMatch(
      /^--sessionstream \.\/no\/such\/dir: no package\.json at /,
    );
  });
});
