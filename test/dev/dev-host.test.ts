// `sessionstream dev` against DNS rebinding: every endpoint (page, inspector,
// its API, ingress, snapshot, websocket) answers loopback names, IP addresses
// and allowedHosts only; the page and inspector keep working on 127.0.0.1 and
// localhost.
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, describe, expect, test } from "vitest";
import { startDevServer } from "../../src/dev/dev-server.js";
import { chatAppSource, writeDevApp } from "../helpers/dev-app.js";

const dir = mkdtempSync(join(tmpdir(), "ss-devhost-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeDevApp(dir, chatAppSource(`hub.registerCommand("ChatStartInference", async () => {});`), "<h1>my app</h1>");

function get(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

function upgrade(port: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { Host: host } });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => {
      resolve(101);
      ws.terminate();
    });
    ws.on("error", () => {});
  });
}

const PATHS = ["/", "/__sessionstream/inspector/", "/__sessionstream/api/sessions", "/api/schema", "/api/sessions/s/snapshot"];

describe("dev server Host check", () => {
  test("refuses a rebound name on every endpoint, answers 127.0.0.1, localhost and allowedHosts", async () => {
    const server = await startDevServer({ cwd: dir, port: 0, store: "memory", watch: false, log: () => {}, allowedHosts: ["mybox.test"] });
    try {
      const port = Number(new URL(server.url).port);
      for (const path of PATHS) {
        expect(await get(port, path, `attacker.example:${port}`), path).toBe(403);
        expect(await get(port, path, `127.0.0.1:${port}`), path).toBe(200);
        expect(await get(port, path, `localhost:${port}`), path).toBe(200);
        expect(await get(port, path, `mybox.test:${port}`), path).toBe(200);
      }
      expect(await upgrade(port, `attacker.example:${port}`)).toBe(403);
      expect(await upgrade(port, `localhost:${port}`)).toBe(101);
      expect(await upgrade(port, `mybox.test:${port}`)).toBe(101);
    } finally {
      await server.close();
    }
  });
});
