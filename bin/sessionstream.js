#!/usr/bin/env node
// Thin entry point: the CLI lives in src/cli (built to dist/cli).
// V8's on-disk code cache (as `tsc` enables it): later runs skip compiling the
// CLI and the TypeScript compiler it loads for schema-vet and gen.
import module from "node:module";

try {
  module.enableCompileCache?.();
} catch {
  // Unsupported or unwritable cache folder: run without it.
}
const { main } = await import("../dist/cli/main.js");

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
