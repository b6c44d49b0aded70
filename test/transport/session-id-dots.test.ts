// Session ids "." and ".." are refused the same way on the websocket and over
// HTTP (where `new URL()` and fetch fold them away as dot-segments).
import { request as httpRequest, createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { submitCommand } from "../../src/transport/client/index.js";
import { createCommandIngress } from "../../src/transport/index.js";
import { chatHub } from "../helpers/chat-app.js";
import { connect, startHarness, type Harness } from "./helpers.js";

let server: Server | undefined;
let h: Harness | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  await h?.close();
  h = undefined;
});

/** Sends the request line exactly as given (node's http client does not normalize paths). */
function raw(port: number, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers: { "content-type": "application/json" } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(method === "POST" ? JSON.stringify({ prompt: "x" }) : undefined);
  });
}

async function startIngress() {
  const hub = chatHub();
  const ingress = createCommandIngress({ hub });
  server = createServer((req, res) =>
    ingress(req, res).then((done) => {
      if (!done) res.writeHead(404).end("fell through");
    }),
  );
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { hub, port: (server.address() as AddressInfo).port };
}

describe('session ids "." and ".."', () => {
  it.each([
    ["POST", "/api/sessions/%2E%2E/commands/ChatStartInference"],
    ["POST", "/api/sessions/%2e%2e/commands/ChatStartInference"],
    ["POST", "/api/sessions/../commands/ChatStartInference"],
    ["POST", "/api/sessions/./commands/ChatStartInference"],
    ["POST", "/api/sessions/%2E/commands/ChatStartInference"],
    ["GET", "/api/sessions/%2E%2E/snapshot"],
    ["GET", "/api/sessions/./snapshot"],
  ])("HTTP %s %s answers 400 invalid_session_id (not a 404 of another path)", async (method, path) => {
    const { port } = await startIngress();
    const res = await raw(port, method, path);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: "invalid_session_id", message: expect.stringContaining("dot-segment") } });
  });

  it("HTTP keeps serving ids that merely contain dots", async () => {
    const { port, hub } = await startIngress();
    expect((await raw(port, "POST", "/api/sessions/.../commands/ChatStartInference")).status).toBe(202);
    expect((await raw(port, "POST", "/api/sessions/a.b/commands/ChatStartInference")).status).toBe(202);
    expect((await hub.snapshot("...")).snapshotOrdinal).toBeGreaterThan(0n);
  });

  it.each([".", ".."])("the websocket refuses a subscribe to %j with invalid_session_id", async (sessionId) => {
    h = await startHarness();
    const c = await connect(h.url);
    c.subscribe(sessionId);
    const err = await c.nextCase("error");
    expect(err.json).toMatchObject({ error: { code: "invalid_session_id", sessionId } });
    expect(h.ws.stats().subscriptions).toBe(0);
    c.subscribe("...");
    await c.nextCase("subscribed");
    c.close();
  });

  it("the client's submit refuses them before sending anything", async () => {
    let calls = 0;
    const fetchImpl = async () => {
      calls++;
      return new Response("{}", { status: 202 });
    };
    await expect(submitCommand(fetchImpl, "http://x/api", "..", "ChatStartInference", {})).rejects.toMatchObject({ code: "invalid_session_id" });
    expect(calls).toBe(0);
  });
});
