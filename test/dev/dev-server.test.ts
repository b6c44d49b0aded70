// `startDevServer` on a hand-written app in a temp folder: endpoints, the
// inspector API, reload on a source change, a syntax error reported and
// recovered from, and state surviving a restart.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import WebSocket from "ws";
import { afterAll, describe, expect, test } from "vitest";
import { startDevServer, type DevServer } from "../../src/dev/dev-server.js";
import { until } from "../helpers/until.js";

const repo = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "ss-dev-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const url = (p: string) => pathToFileURL(join(repo, p)).href;
const APP = `
import { Hub } from ${JSON.stringify(url("src/index.ts"))};
import { chatRegistry } from ${JSON.stringify(url("test/helpers/chat-app.ts"))};

export function createApp({ store }: { store: any }) {
  const hub = new Hub({ registry: chatRegistry(), store });
  hub.registerCommand("ChatStartInference", async (cmd, _s, pub) => {
    await pub.publish("ChatInferenceStarted", { messageId: "m" + Date.now(), prompt: cmd.payload.prompt });
  });
  hub.registerUIProjection((ev) => ev.name === "ChatInferenceStarted"
    ? [{ name: "ChatMessageStarted", payload: { messageId: ev.payload.messageId, text: ev.payload.prompt } }] : []);
  hub.registerTimelineProjection((ev) => ev.name === "ChatInferenceStarted"
    ? [{ kind: "ChatMessage", id: ev.payload.messageId, payload: { messageId: ev.payload.messageId, text: ev.payload.prompt } }] : []);
  return hub;
}
`;

mkdirSync(join(dir, "src"), { recursive: true });
mkdirSync(join(dir, "public"), { recursive: true });
writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
writeFileSync(join(dir, "src/app.ts"), APP);
writeFileSync(join(dir, "public/index.html"), "<h1>my app</h1>");

async function post(base: string, session: string, name: string, body: unknown) {
  const res = await fetch(`${base}/api/sessions/${session}/commands/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}


function wsFrames(base: string, session: string) {
  const ws = new WebSocket(`${base.replace("http", "ws")}/ws`);
  const frames: Array<Record<string, any>> = [];
  ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
  ws.on("open", () => ws.send(JSON.stringify({ subscribe: { sessionId: session } })));
  return { ws, frames };
}

describe("sessionstream dev server", () => {
  let server: DevServer;
  const logs: string[] = [];

  test("serves the app, schema, ingress, websocket and inspector", async () => {
    server = await startDevServer({ cwd: dir, port: 0, log: (l) => logs.push(l) });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.status()).toMatchObject({ state: "ready", loadCount: 1 });
    expect(await (await fetch(`${server.url}/`)).text()).toBe("<h1>my app</h1>");

    const schema = (await (await fetch(`${server.url}/api/schema`)).json()) as Record<string, Array<Record<string, unknown>>>;
    expect(schema["commands"]!.map((c) => c["name"])).toEqual(["ChatStartInference", "ChatStopInference"]);
    expect(schema["commands"]![0]).toMatchObject({
      typeName: "chat.v1.StartInferenceCommand",
      fields: [{ name: "prompt", type: "string", repeated: false }],
      template: { prompt: "" },
    });

    const { ws, frames } = wsFrames(server.url, "s1");
    await until(() => frames.some((f) => f["subscribed"]), "subscribed");
    expect(Object.keys(frames[0]!)).toEqual(["hello"]);
    expect(frames[1]!["snapshot"]).toMatchObject({ sessionId: "s1" });

    expect(await post(server.url, "s1", "ChatStartInference", { prompt: "hello" })).toMatchObject({ status: 202 });
    const live = await until(() => frames.find((f) => f["uiEvent"]), "a live frame");
    expect(live["uiEvent"]).toMatchObject({ sessionId: "s1", eventOrdinal: "1", name: "ChatMessageStarted", payload: { "@type": "type.googleapis.com/chat.v1.ChatMessageUpdate", text: "hello" } });
    ws.close();

    // Unknown command and not-implemented answers.
    expect(await post(server.url, "s1", "Nope", {})).toMatchObject({ status: 404, body: { error: { code: "unknown_command" } } });
    expect(await post(server.url, "s1", "ChatStopInference", {})).toMatchObject({ status: 501, body: { error: { code: "not_implemented" } } });

    // Inspector page and API.
    const page = await fetch(`${server.url}/__sessionstream/inspector/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("sessionstream inspector");
    expect((await fetch(`${server.url}/__sessionstream/inspector/inspector.js`)).headers.get("content-type")).toContain("javascript");
    const sessions = await (await fetch(`${server.url}/__sessionstream/api/sessions`)).json();
    expect(sessions).toEqual({ sessions: [{ sessionId: "s1", cursor: "1" }] });
    const events = await (await fetch(`${server.url}/__sessionstream/api/sessions/s1/events`)).json();
    expect(events).toEqual({ events: [{ sessionId: "s1", ordinal: "1", name: "ChatInferenceStarted", payload: { messageId: expect.any(String), prompt: "hello" } }] });
    const timeline = (await (await fetch(`${server.url}/__sessionstream/api/sessions/s1/timeline`)).json()) as { entities: unknown[] };
    expect(timeline).toMatchObject({ snapshotOrdinal: "1", entities: [{ kind: "ChatMessage", payload: { text: "hello" } }] });
    // The browser client is served from the package dist.
    const client = await fetch(`${server.url}/__sessionstream/dist/transport/client/index.js`);
    expect(client.status).toBe(200);
    // Path traversal is refused.
    expect((await fetch(`${server.url}/__sessionstream/dist/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  test("a syntax error is reported and the previous app keeps serving; a fix reloads", async () => {
    const stream = await fetch(`${server.url}/__sessionstream/api/stream`);
    const reader = stream.body!.getReader();
    let sse = "";
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) break;
        sse += new TextDecoder().decode(value);
      }
    })();

    writeFileSync(join(dir, "src/app.ts"), APP.replace("export function createApp({ store }: { store: any }) {", "export function createApp({ store }: { store: any } {"));
    const status = await until(() => (server.status().state === "error" ? server.status() : undefined), "the load error");
    expect(status.error).toMatch(/cannot load src\/app\.ts: .*app\.ts:\d+:\d+/s);
    expect(logs.join("\n")).toContain("app failed to load; dev keeps running");
    await until(() => sse.includes('"state":"error"'), "the error on the inspector stream");
    expect((await (await fetch(`${server.url}/__sessionstream/api/status`)).json())).toMatchObject({ state: "error" });
    // The last good version keeps serving commands.
    expect(await post(server.url, "s1", "ChatStartInference", { prompt: "still up" })).toMatchObject({ status: 202 });

    const { ws: before } = wsFrames(server.url, "s1");
    const closed = new Promise<number>((r) => before.once("close", (code) => r(code)));
    await new Promise((r) => before.once("open", r));
    writeFileSync(join(dir, "src/app.ts"), APP);
    await until(() => server.status().state === "ready" && server.status().loadCount === 2, "the reload");
    // Sockets of the old generation are closed (going away), so clients reconnect and re-hydrate.
    expect(await closed).toBe(1001);
    const { ws: after, frames } = wsFrames(server.url, "s1");
    const snap = await until(() => frames.find((f) => f["snapshot"])?.["snapshot"], "a snapshot after the reload");
    expect(JSON.stringify(snap)).toContain("still up");
    after.close();
    expect(await post(server.url, "s1", "ChatStartInference", { prompt: "after fix" })).toMatchObject({ status: 202 });
    await reader.cancel();
  });

  test("state survives a restart of dev", async () => {
    const before = (await (await fetch(`${server.url}/api/sessions/s1/snapshot`)).json()) as Record<string, unknown>;
    await server.close();
    server = await startDevServer({ cwd: dir, port: 0, log: () => {}, watch: false });
    const after = (await (await fetch(`${server.url}/api/sessions/s1/snapshot`)).json()) as Record<string, unknown>;
    expect(after).toEqual(before);
    expect(JSON.stringify(after)).toContain("after fix");
    expect(readFileSync(join(dir, ".sessionstream/dev.sqlite")).length).toBeGreaterThan(0);
    await server.close();
  });
});
