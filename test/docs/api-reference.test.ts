// The API reference: TypeDoc over every public entry point (typedoc.json, the
// config `npm run docs:api` uses) converts and validates with no warning, so
// a broken {@link} in a doc comment fails the build; every entry point is in
// it with its exports, and the exported functions and classes of each carry
// a doc comment. A fixture with a broken link shows the check bites.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { Application, ReflectionKind, type DeclarationReflection } from "typedoc";

const repo = join(import.meta.dirname, "..", "..");
const tmp = mkdtempSync(join(repo, ".tmp-typedoc-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ENTRY_POINTS = ["index", "transport", "transport/client", "store/sqlite", "store/postgres", "bus/redis", "codegen", "testing", "react"];

test("typedoc.json documents every entry point with no warning (broken links fail)", async () => {
  const app = await Application.bootstrapWithPlugins({ options: join(repo, "typedoc.json"), logLevel: "Warn" });
  const project = await app.convert();
  expect(project).toBeDefined();
  app.validate(project!);
  expect(app.logger.hasErrors()).toBe(false);
  expect(app.logger.hasWarnings()).toBe(false);

  const modules = new Map((project!.children ?? []).map((m) => [m.name, m]));
  expect([...modules.keys()].sort()).toEqual([...ENTRY_POINTS].sort());
  const undocumented: string[] = [];
  for (const name of ENTRY_POINTS) {
    const mod = modules.get(name)!;
    expect(mod.children?.length ?? 0, `${name} exports`).toBeGreaterThan(0);
    for (const child of mod.children ?? []) {
      if (!child.kindOf(ReflectionKind.Function | ReflectionKind.Class)) continue;
      const decl = child as DeclarationReflection;
      const comment = decl.comment ?? decl.signatures?.[0]?.comment;
      if (!comment || comment.summary.length === 0) undocumented.push(`${name}.${child.name}`);
    }
  }
  expect(undocumented).toEqual([]);
  expect(modules.get("testing")!.children!.map((c) => c.name)).toEqual(expect.arrayContaining(["createTestHub", "expectLiveMatchesSnapshot", "checkLiveMatchesSnapshot"]));
}, 300_000);

test("a doc comment linking to a name that does not exist is a validation warning", async () => {
  writeFileSync(join(tmp, "broken.ts"), "/** Returns one; see {@link doesNotExist}. */\nexport function one(): number {\n  return 1;\n}\n");
  writeFileSync(join(tmp, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022" }, files: ["broken.ts"] }));
  writeFileSync(join(tmp, "typedoc.json"), JSON.stringify({ entryPoints: ["broken.ts"], tsconfig: "tsconfig.json", validation: { invalidLink: true } }));
  const app = await Application.bootstrapWithPlugins({ options: join(tmp, "typedoc.json"), logLevel: "None" });
  const project = await app.convert();
  app.validate(project!);
  expect(app.logger.hasWarnings()).toBe(true);
}, 120_000);
