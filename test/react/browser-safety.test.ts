// "sessionstream/react" runs in a page: from its entry, every import is
// relative (to the React modules and the browser client) or `react` itself;
// nothing from Node.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const entry = resolve(here, "../../src/react/index.ts");

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs: string[] = [];
  // Type-only imports vanish from the emitted JS; every other import/export-from stays.
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)) if (!m[1]) specs.push(m[2]!);
  return specs;
}

describe("react bindings browser safety", () => {
  it("reaches only relative modules and `react` from the entry, and the client only through its entry", () => {
    const seen = new Set<string>();
    const bare = new Set<string>();
    const clientImports: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) {
        if (!spec.startsWith(".")) bare.add(spec);
        else {
          const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
          if (file.includes("/src/react/") && !target.includes("/src/react/")) clientImports.push(target);
          visit(target);
        }
      }
    };
    visit(entry);
    expect([...bare]).toEqual(["react"]);
    expect(new Set(clientImports)).toEqual(new Set([resolve(here, "../../src/transport/client/index.ts")]));
    for (const file of seen) expect(readFileSync(file, "utf8"), file).not.toMatch(/\bprocess\.|\bBuffer\b|require\(|from "node:/);
  });

  it("declares react as an optional peer dependency and exports ./react", () => {
    const pkg = JSON.parse(readFileSync(resolve(here, "../../package.json"), "utf8")) as {
      exports: Record<string, unknown>;
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
      dependencies?: Record<string, string>;
    };
    expect(pkg.exports["./react"]).toEqual({ types: "./dist/react/index.d.ts", default: "./dist/react/index.js" });
    expect(pkg.peerDependencies?.react).toBe(">=18");
    expect(pkg.peerDependenciesMeta?.react?.optional).toBe(true);
    expect(pkg.dependencies?.react).toBeUndefined();
  });
});
