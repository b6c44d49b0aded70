// DNS rebinding: a page at http://attacker.example:PORT whose name resolves to
// 127.0.0.1 is same-origin with itself; the Host header gives it away. A
// request on a loopback address is answered only for loopback names, IP
// addresses and allowedHosts. Same-origin compares scheme, host and port.
import { request as httpRequest, createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createCommandIngress, isHostAllowed, isOriginAllowed, type CommandIngressOptions } from "../../src/transport/index.js";
import { chatHub } from "../helpers/chat-app.js";
import { startHarness, type Harness } from "./helpers.js";

let h: Harness | undefined;
let server: Server | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** The HTTP status of a websocket upgrade with these headers (101 when it opened), and the refusal body. */
function upgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
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

function post(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method: "POST", path, headers: { "content-type": "application/json", ...headers } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(JSON.stringify({ prompt: "x" }));
  });
}

async function startIngress(options: Partial<CommandIngressOptions> = {}) {
  const ingress = createCommandIngress({ hub: chatHub(), ...options });
  server = createServer((req, res) => void ingress(req, res));
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

describe("DNS rebinding: the Host header on a loopback server", () => {
  it("refuses a websocket upgrade for a foreign Host, even with a matching Origin (403 forbidden naming allowedHosts)", async () => {
    h = await startHarness();
    const port = new URL(h.url).port;
    const res = await upgrade(h.url, { Host: `attacker.example:${port}`, Origin: `http://attacker.example:${port}` });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: "forbidden", message: expect.stringContaining("allowedHosts") } });
    expect(h.records.find((r) => r.type === "refused")).toMatchObject({ code: "forbidden" });
    expect(h.ws.stats().connections).toBe(0);
  });

  it("answers loopback names and IP addresses, with or without a same-origin Origin", async () => {
    h = await startHarness();
    const port = new URL(h.url).port;
    for (const host of [`localhost:${port}`, `LOCALHOST:${port}`, `app.localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `192.168.1.7:${port}`]) {
      expect((await upgrade(h.url, { Host: host })).status, host).toBe(101);
      expect((await upgrade(h.url, { Host: host, Origin: `http://${host}` })).status, host).toBe(101);
    }
  });

  it("answers the hosts listed in allowedHosts (exact, or .domain with subdomains, or *)", async () => {
    h = await startHarness({ server: { allowedHosts: ["app.example", ".dev.example"] } });
    const port = new URL(h.url).port;
    expect((await upgrade(h.url, { Host: `app.example:${port}` })).status).toBe(101);
    expect((await upgrade(h.url, { Host: `dev.example:${port}` })).status).toBe(101);
    expect((await upgrade(h.url, { Host: `a.dev.example:${port}` })).status).toBe(101);
    expect((await upgrade(h.url, { Host: `evil-app.example:${port}` })).status).toBe(403);
    expect((await upgrade(h.url, { Host: `notdev.example:${port}` })).status).toBe(403);
    await h.close();
    h = await startHarness({ server: { allowedHosts: ["*"] } });
    expect((await upgrade(h.url, { Host: `anything.example` })).status).toBe(101);
  });

  it("refuses a command over HTTP for a foreign Host (403 forbidden), answers localhost", async () => {
    const port = await startIngress();
    const path = "/api/sessions/s/commands/ChatStartInference";
    const refused = await post(port, path, { Host: `attacker.example:${port}`, Origin: `http://attacker.example:${port}` });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "forbidden", message: expect.stringContaining('"attacker.example"') } });
    expect((await post(port, path, { Host: `localhost:${port}`, Origin: `http://localhost:${port}` })).status).toBe(202);
  });

  it("HTTP honours allowedHosts too", async () => {
    const port = await startIngress({ allowedHosts: ["app.example"] });
    expect((await post(port, "/api/sessions/s/commands/ChatStartInference", { Host: "app.example" })).status).toBe(202);
  });
});

describe("same-origin compares scheme, host and port", () => {
  it("refuses an https Origin on an http server, and another port", async () => {
    h = await startHarness();
    const host = new URL(h.url).host;
    expect((await upgrade(h.url, { Origin: `http://${host}` })).status).toBe(101);
    expect((await upgrade(h.url, { Origin: `https://${host}` })).status).toBe(403);
    expect((await upgrade(h.url, { Origin: `http://127.0.0.1:1` })).status).toBe(403);
    // Behind a TLS-terminating proxy the scheme comes from X-Forwarded-Proto.
    expect((await upgrade(h.url, { Origin: `https://${host}`, "X-Forwarded-Proto": "https" })).status).toBe(101);
    expect((await upgrade(h.url, { Origin: `http://${host}`, "X-Forwarded-Proto": "https" })).status).toBe(403);
  });

  it("treats a default port as the same port", () => {
    const req = (headers: Record<string, string>) => ({ headers, socket: { localAddress: "127.0.0.1" } }) as unknown as IncomingMessage;
    expect(isOriginAllowed(req({ host: "localhost:80", origin: "http://localhost" }), undefined)).toBe(true);
    expect(isOriginAllowed(req({ host: "localhost", origin: "http://localhost:80" }), undefined)).toBe(true);
    expect(isOriginAllowed(req({ host: "localhost:443", origin: "https://localhost", "x-forwarded-proto": "https" }), undefined)).toBe(true);
    expect(isOriginAllowed(req({ host: "localhost", origin: "null" }), undefined)).toBe(false);
  });
});

describe("isHostAllowed", () => {
  const req = (host: string | undefined, localAddress: string) =>
    ({ headers: host === undefined ? {} : { host }, socket: { localAddress } }) as unknown as IncomingMessage;

  it("applies on loopback addresses (IPv4, IPv6, IPv4-mapped) and leaves other addresses alone unless allowedHosts is set", () => {
    for (const local of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) {
      expect(isHostAllowed(req("attacker.example", local), undefined), local).toBe(false);
      expect(isHostAllowed(req("localhost", local), undefined), local).toBe(true);
    }
    expect(isHostAllowed(req("app.example", "10.0.0.5"), undefined)).toBe(true);
    expect(isHostAllowed(req("attacker.example", "10.0.0.5"), ["app.example"])).toBe(false);
    expect(isHostAllowed(req("app.example", "10.0.0.5"), ["app.example"])).toBe(true);
  });

  it("refuses malformed Host values and allows a request without Host (not a browser)", () => {
    expect(isHostAllowed(req("user@localhost", "127.0.0.1"), undefined)).toBe(false);
    expect(isHostAllowed(req("localhost/x", "127.0.0.1"), undefined)).toBe(false);
    expect(isHostAllowed(req("localhost.", "127.0.0.1"), undefined)).toBe(true);
    expect(isHostAllowed(req(undefined, "127.0.0.1"), undefined)).toBe(true);
  });
});
