#!/usr/bin/env node
// Thin entry point: the CLI lives in src/cli (built to dist/cli).
import { main } from "../dist/cli/main.js";

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
