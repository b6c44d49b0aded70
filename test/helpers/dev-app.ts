// A folder `sessionstream dev` can run, written by a test: an ESM package
// whose src/app.ts is the test's own source, and a public/ folder.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const repo = join(import.meta.dirname, "..", "..");

/** A `file:` URL of a path in this checkout, for imports in an app's source. */
export function repoUrl(path: string): string {
  return pathToFileURL(join(repo, path)).href;
}

/** Writes package.json (`"type": "module"`), `src/app.ts` (`appSource`) and `public/` (with `index.html` when given) into `dir`. */
export function writeDevApp(dir: string, appSource: string, indexHtml?: string): string {
  mkdirSync(join(dir, "src"), { recursive: true });
  mkdirSync(join(dir, "public"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(dir, "src/app.ts"), appSource);
  if (indexHtml !== undefined) writeFileSync(join(dir, "public/index.html"), indexHtml);
  return dir;
}

/** The source of an app module on the chat registry of test/helpers/chat-app.ts: `new Hub({ registry: chatRegistry(), store })`, then `body` (registrations on `hub`). */
export function chatAppSource(body: string): string {
  return `import { Hub } from ${JSON.stringify(repoUrl("src/index.ts"))};
import { chatRegistry } from ${JSON.stringify(repoUrl("test/helpers/chat-app.ts"))};
export function createApp({ store }: { store: any }) {
  const hub = new Hub({ registry: chatRegistry(), store });
  ${body}
  return hub;
}
`;
}
