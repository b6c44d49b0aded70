// One suite for every framework recipe (fixtures/frameworks/*-app.ts, the code
// docs/express.md, docs/fastify.md and docs/hono.md show): the app's own routes
// and JSON body parsing, sessionstream's command ingress, snapshot GET and
// websocket on the framework's own server, on a loopback port, with the
// Host/Origin checks and `authorize` working through the framework.
import { request as httpRequest } from "node:http";
import { fromJsonString } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { SnapshotFrameSchema } from "../../../src/gen/sessionstream/v1/transport_pb.js";
import type { AuthorizeRequest, CommandIngressOptions, TransportHub } from "../../../src/transport/index.js";
import { chatHub } from "../../helpers/chat-app.js";
import { until } from "../../helpers/until.js";
import { connect, type TestSocket } from "../helpers.js";

/** What a recipe passes to both endpoints. */
export type Security = Pick<CommandIngressOptions, "authorize" | "allowedOrigins" | "allowedHosts">;

/** A framework app with sessionstream mounted, listening on 127.0.0.1. */
export interface Mounted {
  readonly port: number;
  close(): Promise<void>;
}

/** Builds the recipe's app for `hub` and listens on 127.0.0.1, port 0. */
export type Mount = (hub: TransportHub, security: Security) => Promise<Mounted>;

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** One HTTP request on 127.0.0.1 (node:http, so that any Host header can be sent). */
export function send(port: number, method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = { ...(options.body !== undefined ? { "content-type": "application/json" } : {}), ...options.headers };
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The `{"error":{"code","message"}}` body of an ingress refusal (throws on any other body, e.g. a framework's own error page). */
export function ingressError(answer: Answer): { status: number; code: string; message: string } {
  const body = JSON.parse(answer.text) as { error: { code: string; message: string } };
  expect(typeof body.error?.code, `an ingress error body, got ${answer.text}`).toBe("string");
  return { status: answer.status, code: body.error.code, message: body.error.message };
}

/** The HTTP status of a websocket upgrade (101 when it opened) and the refusal body. */
export function upgrade(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
        ws.terminate();
      });
    });
    ws.on("open", () => {
      resolve({ status: 101, body: "" });
      ws.terminate();
    });
    ws.on("error", (err) => (err.message.includes("Unexpected server response") ? undefined : reject(err)));
  });
}

const START = "ChatStartInference";
const command = (sessionId: string) => `/api/sessions/${sessionId}/commands/${START}`;

/** The shared suite: `mount` is the framework's recipe. */
export function describeMounting(framework: string, mount: Mount): void {
  describe(`sessionstream mounted in ${framework}`, () => {
    let hub: ReturnType<typeof chatHub>;
    let app: Mounted;
    let authorized: AuthorizeRequest[];
    const sockets: TestSocket[] = [];

    beforeEach(async () => {
      hub = chatHub();
      authorized = [];
      app = await mount(hub, {
        // Sessions named private-* are nobody's: refused for commands, snapshots and subscribes.
        authorize(request) {
          authorized.push(request);
          return !request.sessionId?.startsWith("private-");
        },
      });
    });
    afterEach(async () => {
      for (const s of sockets.splice(0)) s.close();
      await app.close();
    });

    const post = (path: string, body: string, headers: Record<string, string> = {}) => send(app.port, "POST", path, { body, headers });
    const ordinal = async (sessionId: string) => (await hub.snapshot(sessionId)).snapshotOrdinal;

    it("a command POSTed through the framework reaches the hub's handler: 202, and the handler's five events are applied", async () => {
      const res = await post(command("s1"), JSON.stringify({ prompt: "hi" }));
      expect(res.status, res.text).toBe(202);
      expect(JSON.parse(res.text)).toEqual({ sessionId: "s1", command: START, status: "accepted" });
      await until(async () => (await ordinal("s1")) === 5n, "the handler's events");
      expect(authorized.map((a) => [a.action, a.sessionId, a.commandName, a.request.url])).toContainEqual(["command", "s1", START, command("s1")]);
    });

    it("a bad command gets the ingress's own error body (not the framework's): invalid_json 400, unknown_command 404, method_not_allowed 405", async () => {
      // A body the framework's JSON parser would refuse with its own 400 if it ran first.
      const broken = ingressError(await post(command("s1"), '{"prompt": '));
      expect(broken).toMatchObject({ status: 400, code: "invalid_json" });
      const unknown = ingressError(await post("/api/sessions/s1/commands/ChatNope", "{}"));
      expect(unknown).toMatchObject({ status: 404, code: "unknown_command" });
      expect(unknown.message).toContain(START);
      // A framework would answer a GET of a route it does not know with its own 404.
      const get = await send(app.port, "GET", command("s1"));
      expect(ingressError(get)).toMatchObject({ status: 405, code: "method_not_allowed" });
      expect(get.headers.allow).toBe("POST");
      const wrongType = ingressError(await post(command("s1"), JSON.stringify({ prompt: "hi" }), { "content-type": "text/plain" }));
      expect(wrongType).toMatchObject({ status: 415, code: "unsupported_media_type" });
      expect(await ordinal("s1")).toBe(0n);
    });

    it("the snapshot GET answers the session's timeline", async () => {
      expect((await post(command("s1"), JSON.stringify({ prompt: "hi" }))).status).toBe(202);
      await until(async () => (await ordinal("s1")) === 5n, "the handler's events");
      const res = await send(app.port, "GET", "/api/sessions/s1/snapshot");
      expect(res.status, res.text).toBe(200);
      const frame = fromJsonString(SnapshotFrameSchema, res.text, { registry: hub.registry.typeRegistry });
      expect(frame.sessionId).toBe("s1");
      expect(frame.snapshotOrdinal).toBe(5n);
      expect(frame.entities.map((e) => [e.kind, e.id])).toEqual([["ChatMessage", "m1"]]);
      expect(JSON.parse(res.text).entities[0].payload).toMatchObject({ text: "Ordinals order events.", status: "finished" });
    });

    it("a websocket client on the framework's server gets the snapshot, then live events", async () => {
      expect((await post(command("s2"), JSON.stringify({ prompt: "first" }))).status).toBe(202);
      await until(async () => (await ordinal("s2")) === 5n, "the first run's events");
      const s = await connect(`ws://127.0.0.1:${app.port}/ws`);
      sockets.push(s);
      s.subscribe("s2");
      const subscribed = await s.nextCase("subscribed");
      const snapshot = s.frames.find((f) => f.frame.frame.case === "snapshot")!.frame.frame;
      expect(snapshot.case === "snapshot" && [snapshot.value.snapshotOrdinal, snapshot.value.entities.length]).toEqual([5n, 1]);
      expect((await post(command("s2"), JSON.stringify({ prompt: "second" }))).status).toBe(202);
      await s.next((r) => r.frame.frame.case === "uiEvent" && r.frame.frame.value.name === "ChatMessageFinished", s.frames.indexOf(subscribed));
      expect(s.cases()).toEqual(["hello", "snapshot", "subscribed", "uiEvent", "uiEvent", "uiEvent", "uiEvent", "uiEvent"]);
      const live = s.frames.flatMap((f) => (f.frame.frame.case === "uiEvent" ? [[f.frame.frame.value.name, f.frame.frame.value.eventOrdinal]] : []));
      expect(live).toEqual([
        ["ChatMessageStarted", 6n],
        ["ChatMessageAppended", 7n],
        ["ChatMessageAppended", 8n],
        ["ChatMessageAppended", 9n],
        ["ChatMessageFinished", 10n],
      ]);
    });

    it("the framework's own routes still work, its JSON body parser included, and paths the ingress does not serve pass on", async () => {
      const config = await send(app.port, "GET", "/api/config");
      expect([config.status, JSON.parse(config.text)]).toEqual([200, { websocket: "/ws" }]);
      const echo = await post("/api/echo", JSON.stringify({ a: [1, "two"], b: { c: true } }));
      expect([echo.status, JSON.parse(echo.text)]).toEqual([200, { received: { a: [1, "two"], b: { c: true } } }]);
      // Under the ingress's prefix but not one of its routes: the framework's 404, not an ingress body.
      const other = await send(app.port, "GET", "/api/sessions/s1/other");
      expect(other.status).toBe(404);
      expect(other.text).not.toContain('"code"');
    });

    it("refuses a hostile Host (DNS rebinding) with 403 on the ingress, the snapshot and the websocket upgrade; answers localhost", async () => {
      const hostile = { host: `attacker.example:${app.port}` };
      const refused = ingressError(await post(command("s1"), JSON.stringify({ prompt: "x" }), hostile));
      expect(refused).toMatchObject({ status: 403, code: "forbidden" });
      expect(refused.message).toContain("allowedHosts");
      expect(ingressError(await send(app.port, "GET", "/api/sessions/s1/snapshot", { headers: hostile }))).toMatchObject({ status: 403, code: "forbidden" });
      const ws = await upgrade(app.port, hostile);
      expect(ws.status).toBe(403);
      expect(JSON.parse(ws.body)).toMatchObject({ error: { code: "forbidden", message: expect.stringContaining("allowedHosts") } });
      expect(await ordinal("s1")).toBe(0n);
      expect((await post(command("s1"), JSON.stringify({ prompt: "x" }), { host: `localhost:${app.port}` })).status).toBe(202);
      expect((await upgrade(app.port, { host: `localhost:${app.port}` })).status).toBe(101);
    });

    it("refuses a cross-origin request with 403; same-origin passes", async () => {
      const foreign = { origin: "http://attacker.example" };
      expect(ingressError(await post(command("s1"), JSON.stringify({ prompt: "x" }), foreign))).toMatchObject({ status: 403, code: "forbidden" });
      expect((await upgrade(app.port, foreign)).status).toBe(403);
      const same = { origin: `http://127.0.0.1:${app.port}` };
      expect((await post(command("s1"), JSON.stringify({ prompt: "x" }), same)).status).toBe(202);
      expect((await upgrade(app.port, same)).status).toBe(101);
    });

    it("authorize sees the node request through the framework and refuses a command, a snapshot and a subscribe", async () => {
      expect(ingressError(await post(command("private-1"), JSON.stringify({ prompt: "x" })))).toMatchObject({ status: 403, code: "forbidden" });
      expect(ingressError(await send(app.port, "GET", "/api/sessions/private-1/snapshot"))).toMatchObject({ status: 403, code: "forbidden" });
      const s = await connect(`ws://127.0.0.1:${app.port}/ws`);
      sockets.push(s);
      s.subscribe("private-1");
      const error = (await s.nextCase("error")).frame.frame;
      expect(error.case === "error" && [error.value.code, error.value.sessionId]).toEqual(["forbidden", "private-1"]);
      expect(s.cases()).not.toContain("snapshot");
      expect(await ordinal("private-1")).toBe(0n);
      const seen = authorized.map((a) => [a.action, a.sessionId ?? "", a.request.url, a.request.headers.host]);
      const host = `127.0.0.1:${app.port}`;
      expect(seen).toEqual([
        ["command", "private-1", command("private-1"), host],
        ["snapshot", "private-1", "/api/sessions/private-1/snapshot", host],
        ["connect", "", "/ws", host],
        ["subscribe", "private-1", "/ws", host],
      ]);
    });
  });
}
