// Helpers for the toolchain scenarios: the repo root, dist/ checks, process timing.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "../..");

/** Newest mtime (ms) of the .ts files under `dir`. */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The shipped CLI runs from dist/ (bin/sessionstream.js). Throws when it is
 * missing; returns a warning when src/<sub> is newer than dist/<sub>.
 */
export function checkDist(sub: string, entry: string): string | undefined {
  const built = join(REPO, "dist", entry);
  if (!existsSync(built)) throw new Error(`dist/${entry} is missing: run \`npm run build\` first`);
  if (newestMtime(join(REPO, "src", sub)) > statSync(built).mtimeMs) return `src/${sub} is newer than dist/ (run npm run build for current numbers)`;
  return undefined;
}

/** Runs a process to completion; resolves with elapsed ms, rejects with its output on a non-zero exit. */
export function runTimed(cmd: string, args: readonly string[], cwd: string, okCodes: readonly number[] = [0]): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    child.stderr.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (okCodes.includes(code ?? -1)) resolvePromise(ms);
      else reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}:\n${out}`));
    });
  });
}
