// Express 5: the recipe of docs/express.md (fixtures/frameworks/express-app.ts)
// against the shared suite, and an ingress mounted after express.json().
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { createCommandIngress, type CommandIngress } from "../../../src/transport/index.js";
import { createExpressServer } from "../../../fixtures/frameworks/express-app.js";
import { chatHub } from "../../helpers/chat-app.js";
import { describeMounting, ingressError, send } from "./mounting-suite.js";

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describeMounting("Express 5", async (hub, security) => {
  const { server, ws } = createExpressServer(hub, security);
  const port = await listen(server);
  return {
    port,
    async close() {
      await ws.close();
      await stop(server);
    },
  };
});

describe("an ingress mounted under a path", () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await stop(server);
    server = undefined;
  });

  it("app.use(\"/api\", ...) strips the path from req.url: the ingress takes the rest with prefix \"\"", async () => {
    const hub = chatHub();
    const ingress = createCommandIngress({ hub, prefix: "" });
    const app = express();
    app.use("/api", async (req, res, next) => {
      if (!(await ingress(req, res))) next();
    });
    server = createServer(app);
    const port = await listen(server);
    const res = await send(port, "POST", "/api/sessions/s1/commands/ChatStartInference", { body: JSON.stringify({ prompt: "hi" }) });
    expect(res.status, res.text).toBe(202);
    expect((await hub.snapshot("s1")).snapshotOrdinal).toBe(5n);
    expect((await send(port, "GET", "/api/sessions/s1/snapshot")).status).toBe(200);
    expect((await send(port, "GET", "/sessions/s1/snapshot")).status).toBe(404);
  });
});

describe("an ingress mounted after a global Express body parser", () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await stop(server);
    server = undefined;
  });

  /** An Express app whose `parser` runs before the ingress. */
  async function start(parser: express.RequestHandler) {
    const hub = chatHub();
    const ingress: CommandIngress = createCommandIngress({ hub, onError: (r) => errors.push(String(r.error)) });
    const errors: string[] = [];
    const app = express();
    app.use(parser);
    app.use(async (req, res, next) => {
      if (!(await ingress(req, res))) next();
    });
    server = createServer(app);
    const port = await listen(server);
    const post = (body: string, headers: Record<string, string> = {}) => send(port, "POST", "/api/sessions/s1/commands/ChatStartInference", { body, headers });
    return { hub, post, errors };
  }

  it("takes the command from req.body that express.json() left (the stream is already read)", async () => {
    const t = await start(express.json());
    const res = await t.post(JSON.stringify({ prompt: "hi" }), { "idempotency-key": "k1" });
    expect([res.status, JSON.parse(res.text)]).toEqual([202, { sessionId: "s1", command: "ChatStartInference", idempotencyKey: "k1", status: "accepted" }]);
    expect((await t.hub.snapshot("s1")).snapshotOrdinal).toBe(5n);
    // The same key replays the answer; the handler does not run again.
    const again = await t.post(JSON.stringify({ prompt: "hi" }), { "idempotency-key": "k1" });
    expect([again.status, again.headers["idempotent-replayed"]]).toEqual([202, "true"]);
    expect((await t.hub.snapshot("s1")).snapshotOrdinal).toBe(5n);
    // A parsed body is judged as one the ingress read itself: a number is no string.
    expect(ingressError(await t.post(JSON.stringify({ prompt: 7 })))).toMatchObject({ status: 400 });
  });

  it("takes the text express.text() or the bytes express.raw() left", async () => {
    for (const parser of [express.text({ type: "application/json" }), express.raw({ type: "application/json" })]) {
      const t = await start(parser);
      expect((await t.post(JSON.stringify({ prompt: "hi" }))).status).toBe(202);
      expect((await t.hub.snapshot("s1")).snapshotOrdinal).toBe(5n);
      expect(ingressError(await t.post('{"prompt": '))).toMatchObject({ status: 400, code: "invalid_json" });
      await stop(server!);
      server = undefined;
    }
  });

  it("a body read by middleware that left no req.body is a 500 naming the fix, not a request that never ends", async () => {
    const t = await start((req, _res, next) => {
      req.resume();
      req.on("end", () => next());
    });
    const res = await t.post(JSON.stringify({ prompt: "hi" }));
    expect(ingressError(res)).toMatchObject({ status: 500, code: "internal" });
    expect(t.errors.join("\n")).toContain("mount the ingress before body-parsing middleware");
  });
});
