// examples/<template> must be exactly what `init --template <template>` + `gen`
// writes today: a template change without `npm run examples:sync` fails here.
import { existsSync, lstatSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { checkExample, EXAMPLES_DIR, REPO, SYNC_COMMAND, templateNames } from "../../scripts/examples.js";

describe("checked-in examples", () => {
  test("every template has an example and every example a template", async () => {
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(EXAMPLES_DIR).sort()).toEqual(templateNames());
  });

  for (const template of templateNames()) {
    test(`examples/${template} is what init --template ${template} + gen writes`, async () => {
      const diffs = await checkExample(template);
      expect(diffs, `examples/${template} is out of date with templates/${template}: run \`${SYNC_COMMAND}\`\n${diffs.join("\n")}`).toEqual([]);
    }, 120_000);
  }

  test("examples resolve `sessionstream` to this checkout (node_modules/sessionstream -> the package root)", () => {
    const link = join(REPO, "node_modules", "sessionstream");
    expect(existsSync(link) && lstatSync(link).isSymbolicLink(), "run `npm ci` (its prepare step links it) or `node scripts/link-self.mjs`").toBe(true);
    expect(realpathSync(link)).toBe(realpathSync(REPO));
    // What a bare `sessionstream` from inside an example resolves to (Node's resolution, as tsx and vitest use it).
    const fromExample = createRequire(join(EXAMPLES_DIR, "chat", "package.json"));
    expect(fromExample.resolve("sessionstream")).toBe(join(realpathSync(REPO), "dist", "index.js"));
  });
});
