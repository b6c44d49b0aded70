import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // examples/*/test: the checked-in examples' own tests (they resolve `sessionstream` through node_modules/sessionstream -> .).
    include: ["test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    // Generous: CLI and process tests compile protos and TypeScript, and CI machines are shared; no test asserts time.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // Native addons (better-sqlite3) and child processes behave better in forks.
    pool: "forks",
  },
});
