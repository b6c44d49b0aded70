import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fromJsonString } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { SnapshotFrameSchema } from "../../src/gen/sessionstream/v1/transport_pb.js";
import { createCommandIngress, type CommandIngressOptions } from "../../src/transport/index.js";
import { SessionstreamError } from "../../src/index.js";
import { chatHub } from "../helpers/chat-app.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function start(options: Partial<CommandIngressOptions> = {}, hub = chatHub()) {
  let runs = 0;
  hub.observe((applied) => {
    if (applied.event.name === "ChatInferenceStarted") runs++;
  });
  const ingress = createCommandIngress({ hub, ...options });
  server = createServer((req, res) => {
    ingress(req, res).then((handled) => {
      if (!handled) {
        res.statusCode = 404;
        res.end("not mine");
      }
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(base + path, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  return { hub, base, post, runs: () => runs };
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, ...body.error };
}

describe("HTTP command ingress", () => {
  it("accepts a protobuf JSON command with 202 and runs its handler", async () => {
    const t = await start();
    const res = await t.post("/api/sessions/s1/commands/ChatStartInference", JSON.stringify({ prompt: "hi" }));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ sessionId: "s1", command: "ChatStartInference", status: "accepted" });
    // The run continues detached from the request.
    for (let i = 0; i < 100 && (await t.hub.snapshot("s1")).snapshotOrdinal < 5n; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await t.hub.snapshot("s1")).snapshotOrdinal).toBe(5n);
  });

  it("answers a handler's error (a stub's not_implemented) to the submitter", async () => {
    const hub = chatHub();
    hub.registerCommand("ChatStopInference", async () => {
      throw new SessionstreamError("not_implemented", "not implemented: edit src/handlers/chat-stop-inference.ts");
    });
    const t = await start({}, hub);
    const res = await t.post("/api/sessions/s1/commands/ChatStopInference", "{}");
    expect(await errorOf(res)).toEqual({ status: 501, code: "not_implemented", message: "not implemented: edit src/handlers/chat-stop-inference.ts" });
  });

  it("answers 409 run_over to a stop of a run that is over (a conflict with the run's state, not a server error)", async () => {
    const hub = chatHub();
    hub.registerCommand("ChatStopInference", async () => {
      throw new SessionstreamError("run_over", "the answer m1 already ended (finished)");
    });
    const t = await start({}, hub);
    const res = await t.post("/api/sessions/s1/commands/ChatStopInference", "{}");
    expect(await errorOf(res)).toEqual({ status: 409, code: "run_over", message: "the answer m1 already ended (finished)" });
  });

  it("answers 200 after the handler returned in `completed` mode", async () => {
    const t = await start({ respond: "completed" });
    const res = await t.post("/api/sessions/s1/commands/ChatStartInference", "{}");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe("completed");
    expect((await t.hub.snapshot("s1")).snapshotOrdinal).toBe(5n);
  });

  it.each([
    ["invalid JSON", "{oops", 400, "invalid_json", "request body is not JSON"],
    ["a wrong field type", JSON.stringify({ prompt: 42 }), 400, "invalid_json", "prompt"],
    ["an unknown field", JSON.stringify({ promt: "x" }), 400, "invalid_json", "promt"],
  ])("answers %s with 400 naming the problem", async (_label, body, status, code, mention) => {
    const t = await start();
    const err = await errorOf(await t.post("/api/sessions/s1/commands/ChatStartInference", body));
    expect(err).toMatchObject({ status, code });
    expect(err.message).toContain(mention);
    expect(t.runs()).toBe(0);
  });

  it("answers 404 unknown_command naming the registered commands, 501 for a command without handler", async () => {
    const t = await start();
    const err = await errorOf(await t.post("/api/sessions/s1/commands/Nope", "{}"));
    expect(err).toMatchObject({ status: 404, code: "unknown_command" });
    expect(err.message).toContain("ChatStartInference");
    expect(await errorOf(await t.post("/api/sessions/s1/commands/ChatStopInference", "{}"))).toMatchObject({ status: 501, code: "not_implemented" });
  });

  it("answers 400 for an invalid session id, 415 for a non-JSON content type, 405 for a wrong method", async () => {
    const t = await start();
    expect(await errorOf(await t.post(`/api/sessions/${"x".repeat(300)}/commands/ChatStartInference`, "{}"))).toMatchObject({
      status: 400,
      code: "invalid_session_id",
    });
    expect(await errorOf(await t.post("/api/sessions/s/commands/ChatStartInference", "{}", { "content-type": "text/plain" }))).toMatchObject({
      status: 415,
      code: "unsupported_media_type",
    });
    const get = await fetch(t.base + "/api/sessions/s/commands/ChatStartInference");
    expect(get.headers.get("allow")).toBe("POST");
    expect(await errorOf(get)).toMatchObject({ status: 405, code: "method_not_allowed" });
    // Other paths are left to the host server.
    const other = await fetch(t.base + "/api/other");
    expect([other.status, await other.text()]).toEqual([404, "not mine"]);
  });

  it("answers 413 for a body over maxBodyBytes, declared or streamed, without running the handler", async () => {
    const t = await start({ maxBodyBytes: 64 });
    const big = JSON.stringify({ prompt: "x".repeat(100) });
    expect(await errorOf(await t.post("/api/sessions/s/commands/ChatStartInference", big))).toMatchObject({ status: 413, code: "payload_too_large" });
    const streamed = await fetch(t.base + "/api/sessions/s/commands/ChatStartInference", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Blob([big]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(await errorOf(streamed)).toMatchObject({ status: 413, code: "payload_too_large" });
    expect(t.runs()).toBe(0);
  });

  it("answers 403 forbidden when authorize refuses, and for a foreign origin", async () => {
    const t = await start({ authorize: (r) => r.action === "command" && r.sessionId === "mine" && r.commandName === "ChatStartInference" });
    expect((await t.post("/api/sessions/mine/commands/ChatStartInference", "{}")).status).toBe(202);
    expect(await errorOf(await t.post("/api/sessions/theirs/commands/ChatStartInference", "{}"))).toMatchObject({ status: 403, code: "forbidden" });
    expect(await errorOf(await fetch(t.base + "/api/sessions/mine/snapshot"))).toMatchObject({ status: 403, code: "forbidden" });
    expect(
      await errorOf(await t.post("/api/sessions/mine/commands/ChatStartInference", "{}", { origin: "https://evil.example" })),
    ).toMatchObject({ status: 403, code: "forbidden" });
  });

  it("replays the original answer for a repeated Idempotency-Key without running the handler again", async () => {
    const t = await start({ respond: "completed" });
    const send = (key: string, session = "s") =>
      t.post(`/api/sessions/${session}/commands/ChatStartInference`, JSON.stringify({ prompt: "once" }), { "idempotency-key": key });
    const [a, b] = await Promise.all([send("k1"), send("k1")]); // concurrent retry shares the first run
    const c = await send("k1"); // later retry
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(await c.json()).toEqual({ sessionId: "s", command: "ChatStartInference", idempotencyKey: "k1", status: "completed", replayed: true });
    expect(c.headers.get("idempotent-replayed")).toBe("true");
    expect(t.runs()).toBe(1);
    await send("k2");
    await send("k1", "other-session"); // keys are scoped to session and command
    expect(t.runs()).toBe(3);
  });

  it("forgets keys after the window and does not remember failures", async () => {
    let now = 0;
    const t = await start({ respond: "completed", idempotency: { windowMs: 1000, now: () => now } });
    const send = (body: string) => t.post("/api/sessions/s/commands/ChatStartInference", body, { "idempotency-key": "k" });
    expect((await send("{bad")).status).toBe(400);
    expect((await send("{}")).status).toBe(200); // the failed attempt was not remembered
    expect((await send("{}")).headers.get("idempotent-replayed")).toBe("true");
    now = 5000;
    expect((await send("{}")).headers.get("idempotent-replayed")).toBeNull();
    expect(t.runs()).toBe(2);
  });

  it("serves the snapshot as protobuf JSON, with a delta for ?since=N", async () => {
    const t = await start();
    await t.hub.submit("s", "ChatStartInference", { prompt: "a" });
    await t.hub.submit("s", "ChatStartInference", { prompt: "b" });
    const res = await fetch(t.base + "/api/sessions/s/snapshot");
    expect(res.headers.get("content-type")).toContain("application/json");
    const text = await res.text();
    const frame = fromJsonString(SnapshotFrameSchema, text, { registry: t.hub.registry.typeRegistry });
    expect(frame.snapshotOrdinal).toBe(10n);
    expect(frame.entities.map((e) => e.id)).toEqual(["m1", "m2"]);
    expect(JSON.parse(text).snapshotOrdinal).toBe("10");
    const delta = fromJsonString(SnapshotFrameSchema, await (await fetch(t.base + "/api/sessions/s/snapshot?since=5")).text(), {
      registry: t.hub.registry.typeRegistry,
    });
    expect([delta.changedAfterOrdinal, delta.entities.map((e) => e.id)]).toEqual([5n, ["m2"]]);
    expect(await errorOf(await fetch(t.base + "/api/sessions/s/snapshot?since=-1"))).toMatchObject({ status: 400, code: "invalid_argument" });
  });
});
