// App-defined HTTP routes (`createApp` returning `{ hub, routes, authorize }`)
// on `startServer` in-process: a route answering and submitting a command,
// precedence against reserved paths, `public/` and the 404, a throwing route
// answering the redacted 500 while the server keeps serving, the Host and
// Origin checks, the app's `authorize` on routes, `/ws` and `/api`, and the
// shape checks of what `createApp` returns.
import { request } from "node:http";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createAppInstance } from "../../src/dev/app-loader.js";
import { Hub, defineApp } from "../../src/index.js";
import { createJsonLogger } from "../../src/server/json-log.js";
import { startServer, type StartedServer } from "../../src/server/start-server.js";
import { MemoryHydrationStore } from "../../src/store/memory/memory-store.js";
import { createTestHub } from "../../src/testing/index.js";
import { chatRegistry } from "../helpers/chat-app.js";
import { until } from "../helpers/until.js";

const repo = join(import.meta.dirname, "..", "..");
const url = (p: string) => pathToFileURL(join(repo, p)).href;

const APP = `
import { Hub, SessionstreamError, defineApp } from ${JSON.stringify(url("src/index.ts"))};
import { chatRegistry } from ${JSON.stringify(url("test/helpers/chat-app.ts"))};

export function createApp({ store }: { store: any }) {
  const hub = new Hub({ registry: chatRegistry(), store });
  hub.registerCommand("ChatStartInference", async (cmd, _s, pub) => {
    await pub.publish("ChatInferenceStarted", { messageId: "m-" + cmd.payload.prompt, prompt: cmd.payload.prompt });
  });
  hub.registerTimelineProjection((ev) => ev.name === "ChatInferenceStarted"
    ? [{ kind: "ChatMessage", id: ev.payload.messageId, payload: { messageId: ev.payload.messageId, text: ev.payload.prompt } }] : []);
  return defineApp({
    hub,
    // Refuses everything on session "locked", wherever it is asked: /ws, /api, the routes.
    authorize: ({ sessionId }) => sessionId !== "locked",
    async routes(req, res, { url, hub: contextHub, json, error, readJson, authorize, originAllowed }) {
      const path = url.pathname;
      // A catch-all on demand: reserved paths must never reach it.
      if (req.headers["x-catch-all"]) return json(200, { route: path });
      if (path === "/api/config" && req.method === "GET") return json(200, { model: "echo", sameHub: contextHub === hub, q: url.searchParams.get("q") });
      if (path === "/api/chat" && req.method === "POST") {
        const body = (await readJson()) as { sessionId: string; prompt: string };
        if (!(await authorize("command", { sessionId: body.sessionId, commandName: "ChatStartInference" }))) return error(403, "forbidden", "not yours");
        await hub.submit(body.sessionId, "ChatStartInference", { prompt: body.prompt });
        return json(202, { status: "accepted" });
      }
      if (path === "/api/throw") throw new Error("route exploded (secret=hunter2)");
      if (path === "/api/reject") return Promise.reject(new TypeError("rejected (secret=hunter2)"));
      if (path === "/api/invalid") throw new SessionstreamError("invalid_argument", "prompt must not be empty");
      if (path === "/api/unknown-command") { await hub.submit("s", "Nope" as never, {} as never); return true; }
      if (path === "/api/half") { res.writeHead(200, { "content-type": "text/plain" }); res.write("partial"); throw new Error("mid-answer"); }
      if (path === "/api/origin") return json(200, { originAllowed: originAllowed() });
      if (path === "/shadowed.html") { res.writeHead(200, { "content-type": "text/html" }).end("from the route"); return true; }
      // Answers without returning true: still handled.
      if (path === "/api/forgot-true") { json(200, { ok: true }); return false; }
      return false;
    },
  });
}
`;

const dir = mkdtempSync(join(tmpdir(), "ss-app-routes-"));
mkdirSync(join(dir, "src"), { recursive: true });
mkdirSync(join(dir, "public/api"), { recursive: true });
writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
writeFileSync(join(dir, "src/app.ts"), APP);
writeFileSync(join(dir, "public/index.html"), "<h1>page</h1>");
writeFileSync(join(dir, "public/page.html"), "from public");
writeFileSync(join(dir, "public/shadowed.html"), "from public");
writeFileSync(join(dir, "public/api/secret.txt"), "never served");

const lines: Array<Record<string, unknown>> = [];
let server: StartedServer;
let port: number;

beforeAll(async () => {
  server = await startServer({
    cwd: dir,
    host: "127.0.0.1",
    port: 0,
    store: { kind: "memory" },
    logger: createJsonLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
  });
  port = Number(new URL(server.url).port);
}, 60_000);
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw HTTP request (fetch cannot set Host or Origin). */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string; aborted: boolean }> {
  return new Promise((done) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => done({ status: res.statusCode ?? 0, body: text, aborted: false }));
      res.on("aborted", () => done({ status: res.statusCode ?? 0, body: text, aborted: true }));
      res.on("error", () => done({ status: res.statusCode ?? 0, body: text, aborted: true }));
    });
    // A connection cut before the answer's head (a route that failed mid-answer).
    req.on("error", () => done({ status: 0, body: "", aborted: true }));
    req.end(body);
  });
}
const json = (r: { body: string }) => JSON.parse(r.body) as Record<string, any>;
/** The session's snapshot ordinal (protobuf JSON leaves out "0"). */
const ordinalOf = async (session: string) => ((await (await fetch(`${server.url}/api/sessions/${session}/snapshot`)).json()) as { snapshotOrdinal?: string }).snapshotOrdinal ?? "0";

describe("app routes in start", () => {
  test("a route answers, with the hub of its generation; a POST route submits a command to the hub", async () => {
    expect(json(await raw("GET", "/api/config?q=1"))).toEqual({ model: "echo", sameHub: true, q: "1" });
    const posted = await raw("POST", "/api/chat", { "content-type": "application/json" }, JSON.stringify({ sessionId: "s1", prompt: "hi" }));
    expect(posted).toMatchObject({ status: 202 });
    const snap = await (await fetch(`${server.url}/api/sessions/s1/snapshot`)).json();
    expect(snap).toMatchObject({ snapshotOrdinal: "1", entities: [{ kind: "ChatMessage", id: "m-hi" }] });
    // Answered without returning true: handled, no second answer.
    expect(await raw("GET", "/api/forgot-true")).toMatchObject({ status: 200 });
  });

  test("precedence: reserved paths, then the routes, then public/, then 404", async () => {
    const all = { "x-catch-all": "1" };
    // Reserved paths never reach the routes, even a catch-all one.
    expect(json(await raw("GET", "/api/schema", all))["commands"]).toBeDefined();
    expect(json(await raw("GET", "/api/sessions/s1/snapshot", all))).toMatchObject({ snapshotOrdinal: "1" });
    expect(json(await raw("GET", "/api/sessions/s1/other", all))).toEqual({ error: { code: "not_found", message: "no endpoint GET /api/sessions/s1/other" } });
    expect(json(await raw("GET", "/ws", all))).toMatchObject({ error: { code: "not_found" } });
    expect((await raw("GET", "/__sessionstream/dist/transport/client/index.js", all)).body).toContain("createSessionstreamClient");
    // No inspector without --inspector: still reserved.
    expect(json(await raw("GET", "/__sessionstream/inspector/", all))).toMatchObject({ error: { code: "not_found" } });
    expect(json(await raw("GET", "/healthz", all))).toEqual({ status: "ok" });
    expect(json(await raw("GET", "/readyz", all))).toMatchObject({ status: "ready" });
    // The routes come before public/ ...
    expect((await raw("GET", "/shadowed.html")).body).toBe("from the route");
    expect(json(await raw("GET", "/page.html", all))).toEqual({ route: "/page.html" });
    // ... which serves what they leave.
    expect((await raw("GET", "/page.html")).body).toBe("from public");
    expect((await raw("GET", "/")).body).toBe("<h1>page</h1>");
    // /api/ is never static: a route's miss there is 404.
    expect(await raw("GET", "/api/secret.txt")).toMatchObject({ status: 404 });
    expect(json(await raw("POST", "/api/nope"))).toEqual({ error: { code: "not_found", message: "no endpoint POST /api/nope" } });
    expect(await raw("GET", "/nothing-here")).toMatchObject({ status: 404 });
  });

  test("a route that throws or rejects answers the redacted 500 with an errorId, logged with its detail; the server keeps serving", async () => {
    for (const path of ["/api/throw", "/api/reject"]) {
      const res = await raw("GET", path);
      expect(res.status).toBe(500);
      const body = json(res);
      expect(body).toEqual({ error: { code: "internal", message: "internal error", errorId: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
      expect(res.body).not.toContain("hunter2");
      const line = lines.find((l) => l["errorId"] === body["error"].errorId);
      expect(line).toMatchObject({ level: "error", msg: "internal error in app route", code: "internal", method: "GET", path });
      expect(String(line!["detail"])).toContain("secret=hunter2");
    }
    // A SessionstreamError of a client-facing code answers its code and message, as the ingress does.
    expect(await raw("GET", "/api/invalid")).toMatchObject({ status: 400 });
    expect(json(await raw("GET", "/api/invalid"))).toEqual({ error: { code: "invalid_argument", message: "prompt must not be empty" } });
    expect(json(await raw("GET", "/api/unknown-command"))).toMatchObject({ error: { code: "unknown_command" } });
    // A throw after the answer began cuts the connection (the client sees no complete answer).
    const half = await raw("GET", "/api/half");
    expect(half.aborted).toBe(true);
    // Still serving.
    expect(json(await raw("GET", "/api/config"))).toMatchObject({ model: "echo" });
  });

  test("readJson: 415 without a JSON content type, 400 on bad JSON, 413 beyond 1 MiB", async () => {
    expect(json(await raw("POST", "/api/chat", { "content-type": "text/plain" }, "{}"))).toMatchObject({ error: { code: "unsupported_media_type" } });
    const bad = await raw("POST", "/api/chat", { "content-type": "application/json" }, "{nope");
    expect(bad.status).toBe(400);
    expect(json(bad)).toMatchObject({ error: { code: "invalid_json" } });
    const big = await raw("POST", "/api/chat", { "content-type": "application/json" }, JSON.stringify({ sessionId: "s", prompt: "x".repeat(1024 * 1024) }));
    expect(big.status).toBe(413);
    expect(json(big)).toMatchObject({ error: { code: "payload_too_large" } });
  });

  test("the Host check applies to app routes: a rebound name gets 403 and the route never runs", async () => {
    const res = await raw("POST", "/api/chat", { host: `attacker.example:${port}`, "content-type": "application/json" }, JSON.stringify({ sessionId: "rebound", prompt: "x" }));
    expect(res.status).toBe(403);
    expect(json(res)).toMatchObject({ error: { code: "forbidden", message: expect.stringContaining("DNS rebinding") } });
    expect(await raw("GET", "/api/config", { host: "attacker.example" })).toMatchObject({ status: 403 });
    expect(await ordinalOf("rebound")).toBe("0");
    expect(await raw("GET", "/api/config", { host: `localhost:${port}` })).toMatchObject({ status: 200 });
  });

  test("the Origin check: a cross-origin POST is refused before the route runs; GET reaches it and the route can ask", async () => {
    const cross = { origin: "http://evil.example", "content-type": "application/json" };
    const res = await raw("POST", "/api/chat", cross, JSON.stringify({ sessionId: "csrf", prompt: "x" }));
    expect(res.status).toBe(403);
    expect(json(res)).toMatchObject({ error: { code: "forbidden", message: expect.stringContaining("origin http://evil.example is not allowed") } });
    expect(await ordinalOf("csrf")).toBe("0");
    expect(json(await raw("GET", "/api/origin", { origin: "http://evil.example" }))).toEqual({ originAllowed: false });
    expect(json(await raw("GET", "/api/origin", { origin: `http://127.0.0.1:${port}` }))).toEqual({ originAllowed: true });
    expect(json(await raw("GET", "/api/origin"))).toEqual({ originAllowed: true });
    // Same-origin POST passes.
    const same = await raw("POST", "/api/chat", { origin: `http://127.0.0.1:${port}`, "content-type": "application/json" }, JSON.stringify({ sessionId: "s2", prompt: "ok" }));
    expect(same.status).toBe(202);
  });

  test("the app's authorize is asked by the routes, the ingress and /ws", async () => {
    const viaRoute = await raw("POST", "/api/chat", { "content-type": "application/json" }, JSON.stringify({ sessionId: "locked", prompt: "x" }));
    expect(viaRoute.status).toBe(403);
    const viaIngress = await fetch(`${server.url}/api/sessions/locked/commands/ChatStartInference`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(viaIngress.status).toBe(403);
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws`);
    const frames: Array<Record<string, any>> = [];
    ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
    ws.on("open", () => ws.send(JSON.stringify({ subscribe: { sessionId: "locked" } })));
    const refused = await until(() => frames.find((f) => f["error"]), "an error frame");
    expect(refused["error"]).toMatchObject({ code: "forbidden", sessionId: "locked" });
    ws.close();
  });
});

describe("what createApp returns", () => {
  const build = (value: (hub: Hub<any>) => unknown) => {
    const factory = ({ store }: { store: MemoryHydrationStore }) => value(new Hub({ registry: chatRegistry(), store })) as Hub<any>;
    return createAppInstance(factory as never, { store: new MemoryHydrationStore() }, "src/app.ts");
  };

  test("a bare hub is an app without routes; { hub, routes } carries them", async () => {
    expect(await build((hub) => hub)).toMatchObject({ routes: undefined, authorize: undefined, checkOrigin: true });
    const routes = () => false;
    expect(await build((hub) => ({ hub, routes, checkOrigin: false }))).toMatchObject({ routes, checkOrigin: false });
  });

  test("a misspelt key, routes that are not a function, or no hub are refused with what is wrong", async () => {
    await expect(build((hub) => ({ hub, route: () => false }))).rejects.toThrow(
      "src/app.ts: createApp returned { hub, ... } with unknown key route (known: hub, routes, authorize, checkOrigin)",
    );
    await expect(build((hub) => ({ hub, routes: { "GET /api/config": () => true } }))).rejects.toThrow(
      "src/app.ts: createApp returned { hub, ... } with routes that is not a function (req, res, context) => boolean (got object)",
    );
    await expect(build(() => ({ routes: () => false }))).rejects.toThrow("src/app.ts: createApp must return a Hub or { hub, routes } (got object)");
  });
});

describe("defineApp", () => {
  test("types the routes' context.hub with the app's registry (checked by tsc)", async () => {
    const hub = new Hub({ registry: chatRegistry(), store: new MemoryHydrationStore() });
    hub.registerCommand("ChatStartInference", async () => {});
    const app = defineApp({
      hub,
      routes: async (_req, _res, context) => {
        await context.hub.submit("s", "ChatStartInference", { prompt: "typed" });
        // @ts-expect-error not a command of the app
        if (context.url.pathname === "/never") await context.hub.submit("s", "ChatNope", {});
        // @ts-expect-error ChatStartInference has no field promt
        if (context.url.pathname === "/never") await context.hub.submit("s", "ChatStartInference", { promt: "typo" });
        return false;
      },
    });
    expect(app.hub).toBe(hub);
    await hub.close();
  });

  test("createTestHub tests the hub of an app factory that returns { hub, routes }", async () => {
    const t = await createTestHub(({ store, fanout }) => {
      const hub = new Hub({ registry: chatRegistry(), store, fanout });
      hub.registerCommand("ChatStartInference", async (cmd, _s, pub) => {
        await pub.publish("ChatInferenceStarted", { messageId: "m1", prompt: cmd.payload.prompt });
      });
      return defineApp({ hub, routes: () => false });
    });
    await t.submit("s1", "ChatStartInference", { prompt: "tested" });
    expect((await t.hub.snapshot("s1")).snapshotOrdinal).toBe(1n);
    await t.hub.close();
  });
});
