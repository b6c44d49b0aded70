// Limits hold while an asynchronous `authorize` hook runs: upgrades and
// subscribes waiting for the hook count against maxConnections and
// maxSubscriptionsPerConnection.
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connect, startHarness, type Harness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens a socket and resolves with what happened: "hello" (a frame arrived) or the HTTP status of a refused upgrade. */
function attempt(url: string, sockets: WebSocket[]): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    sockets.push(ws);
    ws.on("unexpected-response", (_req, res) => resolve(String(res.statusCode)));
    ws.on("message", (data) => resolve(JSON.parse(data.toString()).hello ? "hello" : "other"));
    ws.on("error", () => {});
    ws.on("close", (code) => resolve(`closed ${code}`));
  });
}

describe("limits under an asynchronous authorize", () => {
  it("10 concurrent upgrades against maxConnections 3 with a 300 ms hook: 3 get hello, 7 get HTTP 503", async () => {
    h = await startHarness({
      server: { limits: { maxConnections: 3 }, authorize: async () => (await sleep(300), true) },
    });
    const sockets: WebSocket[] = [];
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => attempt(h!.url, sockets)));
    expect(outcomes.filter((o) => o === "hello")).toHaveLength(3);
    expect(outcomes.filter((o) => o === "503")).toHaveLength(7);
    expect(h.ws.stats().connections).toBe(3);
    expect(h.records.filter((r) => r.type === "refused" && r.code === "unavailable")).toHaveLength(7);
    for (const ws of sockets) ws.terminate();
    // Once they are gone, new connections are accepted again.
    await sleep(50);
    const again = await connect(h.url);
    again.close();
  });

  it("a refused or failed connect hook frees its pending slot", async () => {
    let n = 0;
    h = await startHarness({
      server: { limits: { maxConnections: 1 }, authorize: async (req) => (await sleep(20), req.action !== "connect" || n++ > 0) },
    });
    const sockets: WebSocket[] = [];
    expect(await attempt(h.url, sockets)).toBe("other"); // the forbidden error frame
    expect(await attempt(h.url, sockets)).toBe("hello");
    for (const ws of sockets) ws.terminate();
  });

  it("50 pipelined subscribes against maxSubscriptionsPerConnection 3 with a 100 ms hook: 3 subscribed, 47 too_many_subscriptions", async () => {
    h = await startHarness({
      server: { limits: { maxSubscriptionsPerConnection: 3 }, authorize: async () => (await sleep(100), true) },
    });
    const c = await connect(h.url);
    for (let i = 0; i < 50; i++) c.subscribe(`s${i}`);
    await c.next(() => c.frames.filter((f) => f.frame.frame.case === "subscribed").length === 3 && c.frames.filter((f) => f.frame.frame.case === "error").length === 47);
    await sleep(300);
    const subscribed = c.frames.filter((f) => f.frame.frame.case === "subscribed");
    const errors = c.frames.filter((f) => f.frame.frame.case === "error");
    expect(subscribed).toHaveLength(3);
    expect(errors).toHaveLength(47);
    expect(errors.every((e) => (e.json as { error: { code: string } }).error.code === "too_many_subscriptions")).toBe(true);
    expect(h.ws.stats().subscriptions).toBe(3);
    // A resubscribe to a held (or pending) session is not a new subscription.
    c.subscribe("s0");
    await c.next((r) => r.frame.frame.case === "subscribed" && r.frame.frame.value.sessionId === "s0", subscribed.length + errors.length + 1);
    c.close();
  });

  it("a subscribe refused by the hook frees its pending slot", async () => {
    h = await startHarness({
      server: {
        limits: { maxSubscriptionsPerConnection: 1 },
        authorize: async (req) => (await sleep(20), req.action === "connect" || req.sessionId !== "secret"),
      },
    });
    const c = await connect(h.url);
    c.subscribe("secret");
    const err = await c.nextCase("error");
    expect(err.json).toMatchObject({ error: { code: "forbidden" } });
    c.subscribe("public");
    await c.nextCase("subscribed");
    c.close();
  });
});
