// An app split over commands.proto / events.proto / views.proto (the split
// fixture): gen writes one app-level schema (app_sessionstream.ts) and types
// every file's handlers and case maps against it. Golden files (review the
// diff; UPDATE_GOLDEN=1 rewrites them) and compile tests: valid usage
// compiles, each wrong form fails on its marked line.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGen, type GenResult } from "../../src/codegen/gen.js";
import { FIXTURES, makeProject, readTree, removeProject, typecheck, type Diag } from "./helpers.js";

const GOLDEN = join(FIXTURES, "split/golden");
let dir: string;
let result: GenResult;
let diags: Diag[];

beforeAll(async () => {
  dir = makeProject("split");
  result = await runGen({ projectDir: dir });
  for (const f of ["valid-usage.ts", "invalid-usage.ts"]) copyFileSync(join(FIXTURES, "split/type-tests", f), join(dir, "src", f));
  diags = typecheck(dir);
}, 90_000);
afterAll(() => removeProject(dir));

/** Lines (1-based) that follow an `// expect TSxxxx` marker, with the code. */
function expectations(file: string): Array<{ line: number; code: number }> {
  const out: Array<{ line: number; code: number }> = [];
  readFileSync(join(dir, file), "utf8")
    .split("\n")
    .forEach((text, i) => {
      const m = /\/\/ expect TS(\d+)/.exec(text);
      if (m) out.push({ line: i + 2, code: Number(m[1]) });
    });
  return out;
}

describe("gen on an app split over three proto files", () => {
  it("writes one app-level file beside the per-file ones", () => {
    expect(result.exitCode).toBe(0);
    expect(result.files.filter((f) => f.kind === "generated").map((f) => f.path)).toEqual([
      "src/gen/app_sessionstream.ts",
      "src/gen/shop/v1/commands_pb.ts",
      "src/gen/shop/v1/commands_sessionstream.ts",
      "src/gen/shop/v1/events_pb.ts",
      "src/gen/shop/v1/events_sessionstream.ts",
      "src/gen/shop/v1/views_pb.ts",
      "src/gen/shop/v1/views_sessionstream.ts",
    ]);
  });

  it("matches the golden files (everything but protoc-gen-es output and the type tests)", () => {
    const ours = [...readTree(dir, "src")].filter(([path]) => !path.endsWith("_pb.ts") && !path.endsWith("-usage.ts"));
    if (process.env.UPDATE_GOLDEN) {
      for (const [path, text] of ours) {
        const target = join(GOLDEN, path.replace(/^src\//, ""));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, text);
      }
    }
    const golden = readTree(GOLDEN);
    expect([...golden.keys()].sort()).toEqual(ours.map(([p]) => p.replace(/^src\//, "")).sort());
    for (const [path, text] of ours) expect(text, path).toBe(golden.get(path.replace(/^src\//, "")));
  });

  it("types handlers and case maps against the whole app: valid usage, generated code and stubs compile", () => {
    expect(diags.filter((d) => d.file !== "src/invalid-usage.ts")).toEqual([]);
  });

  it("rejects each wrong form on its marked line, and nothing else", () => {
    const got = diags.filter((d) => d.file === "src/invalid-usage.ts").map((d) => ({ line: d.line, code: d.code }));
    expect(got).toEqual(expectations("src/invalid-usage.ts"));
    expect(got.length).toBe(11);
  });

  it("names the problem in each diagnostic", () => {
    const messages = diags.filter((d) => d.file === "src/invalid-usage.ts").map((d) => d.message);
    expect(messages[0]).toContain(`'"NotAnEvent"' is not assignable to parameter of type '"ItemAdded" | "ItemRemoved" | "ListViewed"'`);
    expect(messages[1]).toContain("'price' does not exist in type 'MessageInit<ItemAddedEvent>'");
    expect(messages[2]).toContain("'ItemRemovedEvent' is not assignable");
    expect(messages[3]).toContain(`'"NotACommand"' is not assignable`);
    expect(messages[4]).toContain("'Hub<CommandsSchema>' is not assignable to parameter of type 'Hub<AppSchema>'");
    expect(messages[5]).toContain("Property 'RemoveItem' is missing");
    expect(messages[6]).toMatch(/payload: Item; \}\[\]' is not assignable/);
    expect(messages[7]).toContain("MessageInit<ItemView>");
    expect(messages[8]).toContain("CaseResult<never>");
    expect(messages[9]).toMatch(/payload: ItemView; \}\[\]' is not assignable/);
    expect(messages[10]).toContain("CaseResult<never>");
  });
});
