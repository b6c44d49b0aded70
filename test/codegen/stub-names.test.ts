// Handler names never collide: commands named like app.ts's own identifiers
// (Hub, Registry, CreateApp, ...) get suffixed handlers and the app compiles;
// two commands mapping to one handler file are refused with exit 2, naming
// both, and nothing is written; so are two proto files whose projection stubs
// would share a file (stems ABTest and AbTest -> projections/ab-test-ui.ts).
import type { DescFile } from "@bufbuild/protobuf";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { genCommand } from "../../src/cli/commands/gen.js";
import { compileProtos } from "../../src/codegen/compile-protos.js";
import { runGen } from "../../src/codegen/gen.js";
import { annotatedModels } from "../../src/codegen/plugin.js";
import { appIdentifiers, handlerIdentifiers } from "../../src/codegen/stub-templates.js";
import { captureIO, makeProject, removeProject, typecheck } from "./helpers.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeProject));

describe("commands named like the app module's own identifiers", () => {
  let dir: string;
  beforeAll(async () => {
    dir = makeProject("reserved-names");
    dirs.push(dir);
    expect((await runGen({ projectDir: dir })).exitCode).toBe(0);
  }, 60_000);

  it("get handler identifiers with a Handler suffix, in the stub and in app.ts", () => {
    const app = readFileSync(join(dir, "src/app.ts"), "utf8");
    for (const [command, file, id] of [
      ["Hub", "hub", "hubHandler"],
      ["Registry", "registry", "registryHandler"],
      ["CreateApp", "create-app", "createAppHandler"],
      ["CreateAppRegistry", "create-app-registry", "createAppRegistryHandler"],
      ["Options", "options", "optionsHandler"],
      ["RegisterOpsHandlers", "register-ops-handlers", "registerOpsHandlersHandler"],
      ["OpsTimelineCases", "ops-timeline-cases", "opsTimelineCasesHandler"],
    ] as const) {
      expect(app).toContain(`import { ${id} } from "./handlers/${file}.js";`);
      expect(app).toContain(`    ${command}: ${id},\n`);
      expect(readFileSync(join(dir, `src/handlers/${file}.ts`), "utf8")).toContain(`export const ${id}: OpsCommandHandler<"${command}">`);
    }
  });

  it("compile strict", () => {
    expect(typecheck(dir)).toEqual([]);
  }, 60_000);

  it("appIdentifiers lists every name app.ts declares besides the handlers (keep the two in sync)", async () => {
    const compiled = await compileProtos({ roots: [join(dir, "proto")] });
    const all = compiled.fileDescriptorSet.file.map((f) => compiled.registry.getFile(f.name)).filter((f): f is DescFile => !!f);
    const models = annotatedModels(compiled.files, all);
    const handlers = new Set(handlerIdentifiers(models).values());
    const sf = ts.createSourceFile("app.ts", readFileSync(join(dir, "src/app.ts"), "utf8"), ts.ScriptTarget.ES2022, true);
    const declared = new Set<string>();
    const visit = (node: ts.Node) => {
      const name = (node as { name?: ts.Node }).name;
      const declares =
        ts.isImportSpecifier(node) || ts.isVariableDeclaration(node) || ts.isFunctionDeclaration(node) || ts.isParameter(node) ||
        ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isClassDeclaration(node);
      if (declares && name && ts.isIdentifier(name)) declared.add(name.text);
      ts.forEachChild(node, visit);
    };
    visit(sf);
    const reserved = appIdentifiers(models);
    expect([...declared].filter((n) => !handlers.has(n) && !reserved.has(n))).toEqual([]);
  }, 60_000);
});

describe("two commands mapping to one handler file, two protos to one projection stub", () => {
  it("exit 2 naming both sources and where they are; nothing is written", async () => {
    const dir = makeProject("handler-clash");
    dirs.push(dir);
    const io = captureIO();
    await genCommand(io).exitOverride().parseAsync(["--cwd", dir], { from: "user" });
    expect(io.exitCode).toBe(2);
    expect(io.stderr).toEqual([
      'proto/todo/v1/todo.proto:15:10: command "add_task" and command "AddTask" (proto/todo/v1/todo.proto:10:10) both map to the handler file src/handlers/add-task.ts; rename one of them (gen writes nothing until then)',
      "proto/ab/v1/ab_test.proto:1:1: this file and proto/ab/v1/a_b_test.proto both map to the projection stubs src/projections/ab-test-ui.ts and src/projections/ab-test-timeline.ts; rename one of the files (gen writes nothing until then)",
      "nothing was written",
    ]);
    expect(existsSync(join(dir, "src"))).toBe(false);
  }, 60_000);
});
