// The client entry must load as a plain ES module in a browser, straight from
// dist: every import reachable from it is relative (no bare specifiers, no node:).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const entry = resolve(here, "../../src/transport/client/index.ts");

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs: string[] = [];
  // Type-only imports vanish from the emitted JS; every other import/export-from stays.
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)) if (!m[1]) specs.push(m[2]!);
  return specs;
}

describe("client browser safety", () => {
  it("reaches only relative modules from the client entry", () => {
    const seen = new Set<string>();
    const bare: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) {
        if (!spec.startsWith(".")) bare.push(`${file}: ${spec}`);
        else visit(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
      }
    };
    visit(entry);
    expect(bare).toEqual([]);
    expect(seen.size).toBeGreaterThanOrEqual(6);
    for (const file of seen) expect(readFileSync(file, "utf8")).not.toMatch(/\bprocess\.|\bBuffer\b|require\(/);
  });
});
