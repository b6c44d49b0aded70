import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { AuthorizeRequest } from "../../src/transport/index.js";
import { connect, startHarness, TestSocket, type Harness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => {
      resolve(101);
      ws.terminate();
    });
    ws.on("error", (err) => (err.message.includes("Unexpected server response") ? undefined : reject(err)));
  });
}

describe("websocket security", () => {
  it("calls authorize for connect and subscribe; a refused subscribe gets forbidden and nothing of the session", async () => {
    const calls: AuthorizeRequest[] = [];
    h = await startHarness({
      server: {
        authorize: (req) => {
          calls.push(req);
          return req.action === "connect" || req.sessionId !== "secret";
        },
      },
    });
    await h.hub.submit("secret", "ChatStartInference", { prompt: "private" });
    const c = await connect(h.url + "?token=abc");
    c.subscribe("secret");
    const err = await c.nextCase("error");
    expect(err.json).toMatchObject({ error: { code: "forbidden", sessionId: "secret" } });
    await h.hub.submit("secret", "ChatStartInference", { prompt: "still private" });
    c.subscribe("public");
    await c.nextCase("subscribed");
    expect(c.cases()).toEqual(["hello", "error", "snapshot", "subscribed"]);
    expect(c.frames.every((f) => !JSON.stringify(f.json).includes("private"))).toBe(true);
    expect(calls.map((r) => [r.action, r.sessionId ?? null])).toEqual([
      ["connect", null],
      ["subscribe", "secret"],
      ["subscribe", "public"],
    ]);
    expect(calls[0]!.request.url).toBe("/ws?token=abc");
    expect(calls[1]!.connectionId).toBe(calls[0]!.connectionId);
    // subscribe sees the connection's upgrade request, as connect did.
    expect(calls[1]!.request).toBe(calls[0]!.request);
    expect(calls[2]!.request.url).toBe("/ws?token=abc");
    c.close();
  });

  it("refuses a connection authorize rejects (or throws for) with forbidden and close code 1008, without hello", async () => {
    h = await startHarness({ server: { authorize: (req) => (req.request.url?.includes("ok") ? true : Promise.reject(new Error("boom"))) } });
    const c = new TestSocket(h.url);
    expect(await c.closed).toBe(1008);
    expect(c.cases()).toEqual(["error"]);
    expect(c.frames[0]!.json).toMatchObject({ error: { code: "forbidden" } });
    expect(h.records.find((r) => r.type === "refused")).toMatchObject({ code: "forbidden", closeCode: 1008 });
    const ok = await connect(h.url + "?ok=1");
    ok.close();
  });

  it("allows same-origin and non-browser clients by default, refuses other origins with HTTP 403", async () => {
    h = await startHarness();
    const host = new URL(h.url).host;
    expect(await upgradeStatus(h.url, {})).toBe(101);
    expect(await upgradeStatus(h.url, { Origin: `http://${host}` })).toBe(101);
    expect(await upgradeStatus(h.url, { Origin: "https://evil.example" })).toBe(403);
  });

  it("allows exactly the listed origins", async () => {
    h = await startHarness({ server: { allowedOrigins: ["https://app.example"] } });
    expect(await upgradeStatus(h.url, { Origin: "https://app.example" })).toBe(101);
    expect(await upgradeStatus(h.url, { Origin: "https://app.example.evil" })).toBe(403);
  });

  it("leaves upgrades on other paths alone", async () => {
    h = await startHarness();
    expect(h.ws.handleUpgrade({ url: "/other" } as never, null as never, Buffer.alloc(0))).toBe(false);
  });
});

describe("websocket security: ordering", () => {
  it("an unsubscribe sent while authorize is pending cancels the subscribe: nothing of the session follows", async () => {
    let release!: () => void;
    const gate = new Promise<boolean>((r) => (release = () => r(true)));
    h = await startHarness({ server: { authorize: (req) => (req.action === "subscribe" ? gate : true) } });
    const c = await connect(h.url);
    c.subscribe("s");
    c.send({ unsubscribe: { sessionId: "s" } });
    await c.nextCase("unsubscribed");
    release();
    c.send({ ping: { nonce: "end" } });
    await c.nextCase("pong");
    expect(c.cases()).toEqual(["hello", "unsubscribed", "pong"]);
    expect(h.ws.stats().subscriptions).toBe(0);
    c.close();
  });
});
