// The runtime modules under test. By default they are loaded from the built
// package (dist/, compiled by tsc: what users run). `BENCH_SOURCE=src` loads
// src/ through tsx instead; tsx's esbuild transform wraps every function
// created at run time in a `__name(...)` call (keepNames), which costs the
// closure-heavy hot paths up to a third of their throughput, so src numbers
// are not representative. Types always come from src/.
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { newestMtime } from "./project.js";

export const PACKAGE_SOURCE: "dist" | "src" = process.env.BENCH_SOURCE === "src" ? "src" : "dist";
const base = new URL(PACKAGE_SOURCE === "src" ? "../../src/" : "../../dist/", import.meta.url);

async function load<T>(path: string): Promise<T> {
  const url = new URL(path, base);
  if (PACKAGE_SOURCE === "dist" && !existsSync(fileURLToPath(url))) {
    throw new Error(`${fileURLToPath(url)} is missing: run \`npm run build\` first (or BENCH_SOURCE=src)`);
  }
  return (await import(url.href)) as T;
}

export const core = await load<typeof import("../../src/index.js")>("index.js");
export const sqlite = await load<typeof import("../../src/store/sqlite/index.js")>("store/sqlite/index.js");
export const sqliteSchema = await load<typeof import("../../src/store/sqlite/schema.js")>("store/sqlite/schema.js");
export const transport = await load<typeof import("../../src/transport/index.js")>("transport/index.js");
export const frameCodec = await load<typeof import("../../src/transport/frame-codec.js")>("transport/frame-codec.js");
export const postgres = await load<typeof import("../../src/store/postgres/index.js")>("store/postgres/index.js");
export const redisBus = await load<typeof import("../../src/bus/redis/index.js")>("bus/redis/index.js");

/** A warning when dist/ is older than src/ (the numbers then describe the last build). */
export function staleDistWarning(): string | undefined {
  if (PACKAGE_SOURCE === "src") return undefined;
  const src = newestMtime(fileURLToPath(new URL("../../src/", import.meta.url)));
  const built = statSync(fileURLToPath(new URL("../../dist/index.js", import.meta.url))).mtimeMs;
  return src > built ? "src/ is newer than dist/: run `npm run build` for numbers of the current sources" : undefined;
}
