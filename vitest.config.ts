import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // examples/*/test: the checked-in examples' own tests (they resolve `sessionstream` through node_modules/sessionstream -> .).
    include: ["test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Native addons (better-sqlite3) and child processes behave better in forks.
    pool: "forks",
  },
});
