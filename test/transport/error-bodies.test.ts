// Error answers never carry an internal error's own message (it may hold
// secrets); the client gets an errorId, the detail goes to onError / the
// observer under the same id. SessionstreamErrors keep code and message.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryHydrationStore, SessionstreamError, type Snapshot, type SnapshotOptions } from "../../src/index.js";
import { createCommandIngress, type CommandIngressOptions, type IngressErrorReport } from "../../src/transport/index.js";
import { chatHub } from "../helpers/chat-app.js";
import { connect, startHarness, type Harness } from "./helpers.js";

const SECRET = "db password=hunter2 at /srv/app/secrets.env";

let server: Server | undefined;
let h: Harness | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  await h?.close();
  h = undefined;
  vi.restoreAllMocks();
});

async function start(options: Partial<CommandIngressOptions>, hub = chatHub()) {
  const ingress = createCommandIngress({ hub, ...options });
  server = createServer((req, res) => void ingress(req, res));
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return (command: string, body = "{}") =>
    fetch(`${base}/api/sessions/s1/commands/${command}`, { method: "POST", body, headers: { "content-type": "application/json" } });
}

function throwingHub(err: unknown) {
  const hub = chatHub();
  hub.registerCommand("ChatStopInference", async () => {
    throw err;
  });
  return hub;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("HTTP error bodies", () => {
  it("a handler's plain Error answers 500 internal with an errorId; onError gets the detail under the same id", async () => {
    const reports: IngressErrorReport[] = [];
    const post = await start({ onError: (r) => reports.push(r) }, throwingHub(new Error(SECRET)));
    const res = await post("ChatStopInference");
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(text).not.toContain("hunter2");
    const body = JSON.parse(text) as { error: { code: string; message: string; errorId: string } };
    expect(body.error).toEqual({ code: "internal", message: "internal error", errorId: expect.stringMatching(UUID) });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ errorId: body.error.errorId, method: "POST", path: "/api/sessions/s1/commands/ChatStopInference", sessionId: "s1", commandName: "ChatStopInference" });
    expect((reports[0]!.error as Error).message).toBe(SECRET);
  });

  it("logs the detail with the id when no onError is given", async () => {
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
    const post = await start({}, throwingHub(new TypeError(SECRET)));
    const body = (await (await post("ChatStopInference")).json()) as { error: { errorId: string; message: string } };
    expect(body.error.message).toBe("internal error");
    // The hub logs the handler error too; the ingress's line names the id.
    const line = logged.find((l) => l.includes(body.error.errorId));
    expect(line).toContain(SECRET);
  });

  it("a SessionstreamError keeps its code and message, without errorId", async () => {
    const reports: IngressErrorReport[] = [];
    const post = await start({ onError: (r) => reports.push(r) }, throwingHub(new SessionstreamError("invalid_argument", "prompt is longer than 4000 characters")));
    const res = await post("ChatStopInference");
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: "invalid_argument", message: "prompt is longer than 4000 characters" } });
    expect(reports).toEqual([]);
  });

  it("a SessionstreamError of code internal (a wrapped bug) is masked too", async () => {
    const post = await start({ onError: () => {} }, throwingHub(SessionstreamError.from(new Error(SECRET))));
    const body = (await (await post("ChatStopInference")).json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "internal", message: "internal error" });
  });

  it("store_unavailable keeps its code but not the connection details", async () => {
    const post = await start({ onError: () => {} }, throwingHub(new SessionstreamError("store_unavailable", `cannot reach postgres://app@db.internal:5432/prod: ${SECRET}`)));
    const body = (await (await post("ChatStopInference")).json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("store_unavailable");
    expect(body.error.message).toBe("internal error");
    expect(JSON.stringify(body)).not.toContain("db.internal");
  });

  it("store_failed and projection_failed keep their code but not the driver's or projection's message", async () => {
    const post = await start({ onError: () => {} }, throwingHub(new SessionstreamError("store_failed", `store write failed: ${SECRET}`)));
    const res = await post("ChatStopInference");
    const body = (await res.json()) as { error: { code: string; message: string; errorId: string } };
    expect(res.status).toBe(500);
    expect(body.error).toEqual({ code: "store_failed", message: "internal error", errorId: expect.stringMatching(UUID) });
  });

  it("a string thrown answers the same way", async () => {
    const post = await start({ onError: () => {} }, throwingHub(SECRET));
    const text = await (await post("ChatStopInference")).text();
    expect(text).not.toContain("hunter2");
  });
});

class BrokenStore extends MemoryHydrationStore {
  override async snapshot(_sessionId: string, _options?: SnapshotOptions): Promise<Snapshot> {
    throw new TypeError(SECRET);
  }
}

describe("websocket error frames", () => {
  it("an internal failure while loading a snapshot sends snapshot_failed with an errorId; the observer gets the detail", async () => {
    h = await startHarness({ app: { store: new BrokenStore() } });
    const c = await connect(h.url);
    c.subscribe("s");
    const err = await c.nextCase("error");
    const frame = (err.json as { error: { code: string; message: string; sessionId: string } }).error;
    expect(JSON.stringify(err.json)).not.toContain("hunter2");
    // The store's read failure (store_failed, carrying the driver's message): never its text, and
    // code snapshot_failed, which tells the client to subscribe again shortly.
    expect(frame.code).toBe("snapshot_failed");
    expect(frame.sessionId).toBe("s");
    const id = /internal error \(errorId ([0-9a-f-]{36})\)/.exec(frame.message)?.[1];
    expect(id).toMatch(UUID);
    const record = h.records.find((r) => r.type === "error" && r.errorId === id);
    expect(record?.detail).toContain(SECRET);
    c.close();
  });
});
