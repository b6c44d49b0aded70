// The dev loop as a user lives it: gen rewrites files through temp file +
// rename, then the user saves those files (and others) the same way, again
// and again, including a syntax error and its fix: every save reloads, and
// gen's own writes do not reload twice. Also: `dev` runs gen at start when
// generated code is missing, a busy port is reported before anything opens,
// and the favicon request is not a 404.
import { createServer } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev/dev-server.js";
import { until } from "../helpers/until.js";

const repo = join(import.meta.dirname, "..", "..");
const root = mkdtempSync(join(tmpdir(), "ss-devloop-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const url = (p: string) => pathToFileURL(join(repo, p)).href;
/** An app whose `VERSION` comes from a "generated" module and whose `MARK` is edited by the user. */
const app = (mark: string) => `
import { Hub } from ${JSON.stringify(url("src/index.ts"))};
import { chatRegistry } from ${JSON.stringify(url("test/helpers/chat-app.ts"))};
import { VERSION } from "./gen/version.js";
export const MARK = ${JSON.stringify(mark)};
export function createApp({ store }: { store: any }) {
  const hub = new Hub({ registry: chatRegistry(), store });
  hub.registerCommand("ChatStartInference", async (cmd, _s, pub) => {
    await pub.publish("ChatInferenceStarted", { messageId: "m" + Date.now(), prompt: MARK + VERSION + cmd.payload.prompt });
  });
  return hub;
}
`;

function atomicWrite(file: string, text: string): void {
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

function project(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "src"), { recursive: true });
  mkdirSync(join(dir, "proto"), { recursive: true });
  mkdirSync(join(dir, "public"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(dir, "proto/app.proto"), 'syntax = "proto3";\n// v1\n');
  writeFileSync(join(dir, "public/index.html"), "<h1>app</h1>");
  writeFileSync(join(dir, "src/app.ts"), app("user-0"));
  return dir;
}

/** A stand-in for `gen`: writes src/gen/version.ts from the proto and rewrites src/app.ts, both by rename. */
function fakeGen(dir: string, runs: { count: number }) {
  return async () => {
    runs.count++;
    const proto = readFileSync(join(dir, "proto/app.proto"), "utf8");
    const version = /\/\/ (v\d+)/.exec(proto)?.[1] ?? "v0";
    const written: string[] = [];
    const target = join(dir, "src/gen/version.ts");
    const text = `// @generated\nexport const VERSION = ${JSON.stringify(version)};\n`;
    if (!existsSync(target) || readFileSync(target, "utf8") !== text) {
      mkdirSync(join(dir, "src/gen"), { recursive: true });
      atomicWrite(target, text);
      written.push("src/gen/version.ts");
    }
    // Like a stub merge: gen rewrites the user's app.ts when a proto changed.
    if (version !== "v1") {
      const appText = readFileSync(join(dir, "src/app.ts"), "utf8");
      const merged = appText.includes(`// merged ${version}`) ? appText : `${appText}// merged ${version}\n`;
      if (merged !== appText) {
        atomicWrite(join(dir, "src/app.ts"), merged);
        written.push("src/app.ts");
      }
    }
    return written;
  };
}

async function promptEcho(server: DevServer, session: string): Promise<string> {
  const res = await fetch(`${server.url}/api/sessions/${session}/commands/ChatStartInference`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt: "!" }),
  });
  expect(res.status).toBe(202);
  const events = (await (await fetch(`${server.url}/__sessionstream/api/sessions/${session}/events`)).json()) as {
    events: Array<{ payload: { prompt: string } }>;
  };
  return events.events.at(-1)!.payload.prompt;
}

describe("dev loop", () => {
  test("dev runs gen at start when generated code is missing, and says so", async () => {
    const dir = project("missing-gen");
    const runs = { count: 0 };
    const logs: string[] = [];
    const server = await startDevServer({ cwd: dir, port: 0, store: "memory", watch: false, protoRoots: ["proto"], regenerate: fakeGen(dir, runs), log: (l) => logs.push(l) });
    try {
      expect(runs.count).toBe(1);
      expect(logs.join("\n")).toContain("generated code was missing or stale: ran gen (1 file written)");
      expect(server.status()).toMatchObject({ state: "ready", loadCount: 1 });
      expect(await promptEcho(server, "s1")).toBe("user-0v1!");
    } finally {
      await server.close();
    }
    // Up to date: gen runs, writes nothing, and dev says nothing about it.
    const again: string[] = [];
    const second = await startDevServer({ cwd: dir, port: 0, store: "memory", watch: false, regenerate: fakeGen(dir, runs), log: (l) => again.push(l) });
    await second.close();
    expect(runs.count).toBe(2);
    expect(again.join("\n")).not.toContain("ran gen");
  });

  test("every save reloads, by rename, of files gen rewrote and files it did not; gen's own writes reload once", async () => {
    const dir = project("saves");
    const runs = { count: 0 };
    const logs: string[] = [];
    const server = await startDevServer({ cwd: dir, port: 0, store: "memory", protoRoots: ["proto"], regenerate: fakeGen(dir, runs), log: (l) => logs.push(l) });
    const loads = () => server.status().loadCount;
    try {
      expect(loads()).toBe(1);
      // A proto edit: gen rewrites src/gen/version.ts and src/app.ts by rename; one reload.
      atomicWrite(join(dir, "proto/app.proto"), 'syntax = "proto3";\n// v2\n');
      await until(() => loads() === 2, "the reload after the proto edit");
      expect(await promptEcho(server, "s1")).toBe("user-0v2!");
      await new Promise((r) => setTimeout(r, 800));
      expect(loads()).toBe(2);

      const appFile = join(dir, "src/app.ts");
      const merged = readFileSync(appFile, "utf8");
      expect(merged).toContain("// merged v2");
      // Saves of the file gen just rewrote: a syntax error, its fix, and two more edits.
      atomicWrite(appFile, merged.replace("export function createApp({ store }: { store: any }) {", "export function createApp({ store }: { store: any } {"));
      await until(() => server.status().state === "error", "the syntax error after saving a gen-rewritten file");
      atomicWrite(appFile, merged.replace('"user-0"', '"user-1"'));
      await until(() => server.status().state === "ready" && loads() === 3, "the fix");
      expect(await promptEcho(server, "s1")).toBe("user-1v2!");
      for (let i = 2; i <= 3; i++) {
        atomicWrite(appFile, merged.replace('"user-0"', `"user-${i}"`));
        await until(() => loads() === i + 2, `save ${i} of src/app.ts`);
        expect(await promptEcho(server, "s1")).toBe(`user-${i}v2!`);
      }
      // A file gen did not write, new, then saved by rename twice.
      const helper = join(dir, "src/helper.ts");
      atomicWrite(helper, "export const h = 1;\n");
      await until(() => loads() === 6, "a new file");
      atomicWrite(helper, "export const h = 2;\n");
      await until(() => loads() === 7, "a save of the new file");
      atomicWrite(helper, "export const h = 3;\n");
      await until(() => loads() === 8, "another save of the new file");
      // A second proto edit after all that still runs gen and reloads once.
      atomicWrite(join(dir, "proto/app.proto"), 'syntax = "proto3";\n// v3\n');
      await until(() => loads() === 9, "the reload after the second proto edit");
      expect(await promptEcho(server, "s1")).toBe("user-3v3!");
      expect(runs.count).toBe(3);
      await new Promise((r) => setTimeout(r, 800));
      expect(loads()).toBe(9);
      expect(logs.filter((l) => l.startsWith("changed: src/app.ts"))).toHaveLength(4);
    } finally {
      await server.close();
    }
  });

  test("a reload evaluates the user's modules afresh and dependencies once (no per-reload copy of node_modules)", async () => {
    const dir = project("deps-once");
    mkdirSync(join(dir, "node_modules/counted-dep"), { recursive: true });
    writeFileSync(join(dir, "node_modules/counted-dep/package.json"), JSON.stringify({ name: "counted-dep", type: "module", exports: "./index.js" }));
    writeFileSync(join(dir, "node_modules/counted-dep/index.js"), "globalThis.__ssDepEvals = (globalThis.__ssDepEvals ?? 0) + 1;\nexport const dep = 1;\n");
    mkdirSync(join(dir, "src/gen"), { recursive: true });
    writeFileSync(join(dir, "src/gen/version.ts"), 'export const VERSION = "v1";\n');
    writeFileSync(join(dir, "src/counted.ts"), 'import "counted-dep";\n(globalThis as any).__ssUserEvals = ((globalThis as any).__ssUserEvals ?? 0) + 1;\nexport const counted = 1;\n');
    writeFileSync(join(dir, "src/app.ts"), app("deps").replace('import { VERSION } from "./gen/version.js";', 'import { VERSION } from "./gen/version.js";\nimport "./counted.js";'));
    const server = await startDevServer({ cwd: dir, port: 0, store: "memory", watch: false, log: () => {} });
    const g = globalThis as { __ssDepEvals?: number; __ssUserEvals?: number };
    try {
      expect(server.status()).toMatchObject({ state: "ready", loadCount: 1 });
      for (let i = 0; i < 3; i++) await server.reload();
      expect(server.status()).toMatchObject({ state: "ready", loadCount: 4 });
      expect(g.__ssUserEvals).toBe(4);
      expect(g.__ssDepEvals).toBe(1);
    } finally {
      await server.close();
    }
  });

  test("a busy port is reported before gen runs or the app loads", async () => {
    const dir = project("busy");
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    const runs = { count: 0 };
    try {
      await expect(startDevServer({ cwd: dir, port, watch: false, regenerate: fakeGen(dir, runs), log: () => {} })).rejects.toThrow(
        `port ${port} is in use; try --port 0`,
      );
      expect(runs.count).toBe(0);
      expect(existsSync(join(dir, ".sessionstream"))).toBe(false);
    } finally {
      blocker.close();
    }
  });

  test("GET /favicon.ico is not a 404 when the app has none; the app's own icon wins", async () => {
    const dir = project("favicon");
    const server = await startDevServer({ cwd: dir, port: 0, store: "memory", watch: false, log: () => {} });
    try {
      const res = await fetch(`${server.url}/favicon.ico`);
      expect(res.status).toBe(204);
      writeFileSync(join(dir, "public/favicon.ico"), "ICON");
      const own = await fetch(`${server.url}/favicon.ico`);
      expect(own.status).toBe(200);
      expect(await own.text()).toBe("ICON");
    } finally {
      await server.close();
    }
  });
});
