// App routes in `startDevServer`, reloading with the hub: a save of the
// routes' own module (watched, not app.ts) answers the new version; a broken
// save keeps the old routes and hub serving until a fix; the routes of a
// generation always see that generation's hub; a route that throws answers
// the redacted 500 and dev keeps serving.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev/dev-server.js";
import { until } from "../helpers/until.js";

const repo = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "ss-dev-routes-"));
const url = (p: string) => pathToFileURL(join(repo, p)).href;

const APP = `
import { Hub, defineApp } from ${JSON.stringify(url("src/index.ts"))};
import { chatRegistry } from ${JSON.stringify(url("test/helpers/chat-app.ts"))};
import { routes } from "./routes.js";

export function createApp({ store }: { store: any }) {
  const hub = new Hub({ registry: chatRegistry(), store });
  hub.registerCommand("ChatStartInference", async (cmd, _s, pub) => {
    await pub.publish("ChatInferenceStarted", { messageId: "m-" + cmd.payload.prompt, prompt: cmd.payload.prompt });
  });
  return defineApp({ hub, routes: routes(hub) });
}
`;
const ROUTES = (version: string) => `
import type { AppRouteHandler } from ${JSON.stringify(url("src/index.ts"))};

export function routes(hub: unknown): AppRouteHandler {
  return async (req, _res, { url, json, hub: contextHub }) => {
    if (url.pathname === "/api/version") return json(200, { version: ${JSON.stringify(version)}, sameHub: contextHub === hub });
    if (url.pathname === "/api/boom") throw new Error("boom (secret=hunter2)");
    return false;
  };
}
`;

mkdirSync(join(dir, "src"), { recursive: true });
mkdirSync(join(dir, "public"), { recursive: true });
writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
writeFileSync(join(dir, "src/app.ts"), APP);
writeFileSync(join(dir, "src/routes.ts"), ROUTES("one"));
writeFileSync(join(dir, "public/index.html"), "<h1>page</h1>");

let server: DevServer | undefined;
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const version = async (base: string) => (await (await fetch(`${base}/api/version`)).json()) as { version: string; sameHub: boolean };

describe("app routes in dev", () => {
  test("a route edit reloads; a broken edit keeps the old routes and hub serving; a fix reloads", async () => {
    const logs: string[] = [];
    server = await startDevServer({ cwd: dir, port: 0, store: "memory", log: (l) => logs.push(l) });
    expect(await version(server.url)).toEqual({ version: "one", sameHub: true });

    writeFileSync(join(dir, "src/routes.ts"), ROUTES("two"));
    await until(async () => (await version(server!.url)).version === "two", "the edited route", 20_000, 50);
    expect(server.status()).toMatchObject({ state: "ready", loadCount: 2 });
    // The new routes see the new generation's hub.
    expect(await version(server.url)).toEqual({ version: "two", sameHub: true });

    writeFileSync(join(dir, "src/routes.ts"), ROUTES("three").replace("return async", "return async async"));
    const failed = await until(() => (server!.status().state === "error" ? server!.status() : undefined), "the load error", 20_000, 50);
    expect(failed.error).toMatch(/cannot load src\/app\.ts: .*routes\.ts/s);
    // The old generation keeps serving: its route, and the hub behind it.
    expect(await version(server.url)).toEqual({ version: "two", sameHub: true });
    const cmd = await fetch(`${server.url}/api/sessions/s1/commands/ChatStartInference`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"prompt":"still up"}' });
    expect(cmd.status).toBe(202);

    writeFileSync(join(dir, "src/routes.ts"), ROUTES("four"));
    await until(async () => (await version(server!.url)).version === "four", "the fixed route", 20_000, 50);
    expect(server.status()).toMatchObject({ state: "ready", loadCount: 3 });
  }, 60_000);

  test("a route that throws answers 500 internal with an errorId, never its message; dev keeps serving", async () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.join(" "));
    try {
      const res = await fetch(`${server!.url}/api/boom`);
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; message: string; errorId: string } };
      expect(body).toEqual({ error: { code: "internal", message: "internal error", errorId: expect.any(String) } });
      // The detail goes to the terminal under the same id.
      expect(errors.join("\n")).toContain(`internal error ${body.error.errorId} on GET /api/boom`);
      expect(errors.join("\n")).toContain("secret=hunter2");
    } finally {
      console.error = original;
    }
    expect(await version(server!.url)).toMatchObject({ version: "four" });
  });

  test("before any generation loads, /api/ answers 503 app_not_loaded (the routes may own it); the page still loads", async () => {
    await server?.close();
    writeFileSync(join(dir, "src/routes.ts"), "export const routes = (;");
    server = await startDevServer({ cwd: dir, port: 0, store: "memory", log: () => {}, watch: false });
    expect(server.status().state).toBe("error");
    const res = await fetch(`${server.url}/api/version`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: "app_not_loaded" } });
    expect(await (await fetch(`${server.url}/`)).text()).toBe("<h1>page</h1>");
  });
});
