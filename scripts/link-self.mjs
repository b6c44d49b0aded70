// Makes `sessionstream` resolvable from examples/* without an install there:
// node_modules/sessionstream -> the package root. Node (and tsx, vitest, tsc)
// resolve a bare `sessionstream` import by walking up to the root
// node_modules, then through package.json "exports" to dist/, exactly as for
// an installed copy. Run by `prepare` (so `npm ci` sets it up) and by `start`.
import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const link = `${root}node_modules/sessionstream`;
// Relative, so the checkout can move; Windows junctions need an absolute target.
const target = process.platform === "win32" ? root : "..";

let current;
try {
  current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : "not a link";
} catch {
  current = undefined;
}
if (current !== target) {
  if (current !== undefined) rmSync(link, { recursive: true, force: true });
  mkdirSync(`${root}node_modules`, { recursive: true });
  // "junction" matters on Windows only (no privilege needed); ignored elsewhere.
  symlinkSync(target, link, "junction");
}
