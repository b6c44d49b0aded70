// docs/express.md, docs/fastify.md and docs/hono.md show the tested recipes
// (fixtures/frameworks/*-app.ts) as they are: the `ts program file=<name>` block
// of each page is the fixture without its leading comment, importing
// "sessionstream/transport" where the fixture imports the sources. The page's
// other block imports it; test/docs/code-blocks.test.ts type-checks both.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "..", "..", "..");

/** The fixture as the docs show it. */
function documented(fixture: string): string {
  const lines = readFileSync(join(repo, "fixtures/frameworks", fixture), "utf8").split("\n");
  const first = lines.findIndex((l) => !l.startsWith("//"));
  return lines.slice(first).join("\n").replaceAll('"../../src/transport/index.js"', '"sessionstream/transport"').trimEnd() + "\n";
}

/** The code of the block opened with ```` ```ts program file=<name> ````. */
function block(doc: string, name: string): string | undefined {
  const text = readFileSync(join(repo, "docs", doc), "utf8");
  const match = new RegExp("^```ts program file=" + name.replace(".", "\\.") + "\\n([\\s\\S]*?)^```$", "m").exec(text);
  return match?.[1];
}

describe.each([
  ["express.md", "express-app.ts", "createExpressServer"],
  ["fastify.md", "fastify-app.ts", "createFastifyApp"],
  ["hono.md", "hono-app.ts", "serveHonoApp"],
])("docs/%s", (doc, fixture, factory) => {
  it(`shows fixtures/frameworks/${fixture}, the tested recipe, as it is`, () => {
    expect(block(doc, fixture)).toBe(documented(fixture));
    expect(documented(fixture)).not.toContain("../");
  });

  it("runs it from a complete program that imports it", () => {
    const text = readFileSync(join(repo, "docs", doc), "utf8");
    expect(text).toContain(`import { ${factory} } from "./${fixture.replace(/\.ts$/, ".js")}";`);
  });
});
