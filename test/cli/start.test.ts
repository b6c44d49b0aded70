// `sessionstream start` as a child process of the built CLI on a temp copy of
// fixtures/start/chat: the page, /ws, the ingress, /healthz and /readyz, the
// inspector only when asked, JSON log lines, a graceful SIGTERM during a
// streaming command (SQLite and PostgreSQL) after which a restart continues
// the session's ordinals, and clear start-up failures.
import { readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { adminQuery, dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";
import { dropPrefixes, freshPrefix, REDIS_URL, redisUnavailable } from "../helpers/redis.js";
import { closedPort, tcpProxy } from "../helpers/tcp-proxy.js";
import { command, copyStartApp, getJson, runStartToExit, StartProcess, subscribe } from "../helpers/start-app.js";
import { until } from "../helpers/until.js";

const app = copyStartApp();
/** A non-loopback IPv4 address of this machine, to reach a 0.0.0.0 server over a network interface. */
const networkAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i?.family === "IPv4" && !i.internal)?.address;

/** A GET with the given Host (and Origin) header; resolves with the status. */
function request(address: string, port: number, path: string, headers: { host: string; origin?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: address, port, path, headers: { ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}
afterAll(() => app.remove());

// Tests that need a server skip with the printed reason where it is absent.
const pgSkip = await postgresUnavailable();
const redisSkip = await redisUnavailable();
const schemas: string[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  if (!pgSkip) await dropSchemas(schemas);
  if (!redisSkip) await dropPrefixes(prefixes);
});

describe("sessionstream start", () => {
  test("serves the page, /ws, the ingress, /healthz and /readyz; no inspector; every stdout line is a JSON log object", async () => {
    const p = await new StartProcess(app.dir, ["--store", "sqlite:.sessionstream/serve.sqlite"]).ready();
    try {
      expect(await (await fetch(`${p.url}/`)).text()).toContain("<h1>start fixture</h1>");
      expect(await getJson(`${p.url}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
      expect(await getJson(`${p.url}/readyz`)).toEqual({ status: 200, body: { status: "ready", store: { ok: true }, bus: { ok: true } } });
      // The page imports the browser client from the package.
      expect((await fetch(`${p.url}/__sessionstream/dist/transport/client/index.js`)).status).toBe(200);
      // No inspector unless --inspector.
      expect((await fetch(`${p.url}/__sessionstream/inspector/`)).status).toBe(404);
      expect((await fetch(`${p.url}/__sessionstream/api/status`)).status).toBe(404);

      const sub = subscribe(p.url, "s1");
      await until(() => sub.frames.some((f) => f["subscribed"]), "subscribed");
      expect(Object.keys(sub.frames[0]!)).toEqual(["hello"]);
      expect(sub.frames[1]!["snapshot"]).toMatchObject({ sessionId: "s1" });
      expect(await command(p.url, "s1", "ChatStartInference", { prompt: "hi" })).toMatchObject({ status: 202 });
      await until(() => sub.uiEvents().some((e) => e.name === "ChatMessageFinished"), "the stream to finish");
      expect(sub.uiEvents().map((e) => `${e.eventOrdinal} ${e.name}`)).toEqual([
        "1 ChatMessageStarted",
        ...[2, 3, 4, 5, 6].map((n) => `${n} ChatMessageAppended`),
        "7 ChatMessageFinished",
      ]);
      sub.ws.close();
      const snap = await getJson(`${p.url}/api/sessions/s1/snapshot`);
      expect(snap.body).toMatchObject({ snapshotOrdinal: "7", entities: [{ kind: "ChatMessage", payload: { text: "t0 t1 t2 t3 t4 ", status: "finished" } }] });

      // A handler's plain Error: the client gets an errorId, the log the detail under it, keyed by code.
      const failed = await command(p.url, "s1", "ChatStopInference", {});
      expect(failed).toMatchObject({ status: 500, body: { error: { code: "internal", message: "internal error" } } });
      const errorId = failed.body["error"]["errorId"] as string;
      await until(() => p.lines().some((l) => l["errorId"] === errorId), "the ingress error line");
      expect(p.lines().find((l) => l["errorId"] === errorId)).toMatchObject({ level: "error", code: "internal", commandName: "ChatStopInference" });
      expect(p.lines().find((l) => l["kind"] === "handler")).toMatchObject({
        level: "error",
        code: "internal",
        sessionId: "s1",
        commandName: "ChatStopInference",
        msg: "stop is broken on purpose (secret=hunter2)",
      });
    } finally {
      expect(await p.stop()).toEqual({ code: 0, signal: null });
    }
    const lines = p.lines();
    for (const line of lines) {
      expect(Object.keys(line).slice(0, 3)).toEqual(["time", "level", "msg"]);
      expect(new Date(line.time).toISOString()).toBe(line.time);
      expect(["debug", "info", "warn", "error"]).toContain(line.level);
    }
    expect(lines[0]).toMatchObject({ level: "info", msg: "listening", inspector: false, bus: "in-process (single node)", commands: ["ChatStartInference", "ChatStopInference"] });
    expect(lines.map((l) => l.msg).slice(-2)).toEqual(["shutting down", "stopped"]);
    expect(lines.at(-2)).toMatchObject({ reason: "SIGTERM" });
    expect(lines.at(-1)).toMatchObject({ clean: true });
  }, 180_000);

  test("--inspector serves the inspector; the store comes from SESSIONSTREAM_STORE", async () => {
    const p = await new StartProcess(app.dir, ["--inspector"], { SESSIONSTREAM_STORE: "memory" }).ready();
    try {
      expect(p.lines()[0]).toMatchObject({ level: "warn", msg: expect.stringContaining("memory store") });
      expect(p.lines().find((l) => l.msg === "listening")).toMatchObject({ inspector: true, store: expect.stringMatching(/^memory/) });
      const page = await fetch(`${p.url}/__sessionstream/inspector/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("sessionstream inspector");
      expect(await getJson(`${p.url}/__sessionstream/api/status`)).toMatchObject({ status: 200, body: { state: "ready", commands: ["ChatStartInference", "ChatStopInference"] } });
      expect(await command(p.url, "i1", "ChatStartInference", { prompt: "x" })).toMatchObject({ status: 202 });
      await until(async () => (await getJson(`${p.url}/__sessionstream/api/sessions`)).body.sessions.length === 1, "the session in the inspector");
    } finally {
      // The inspector's open live stream must not hold the shutdown.
      const stream = await fetch(`${p.url}/__sessionstream/api/stream`);
      expect(stream.status).toBe(200);
      expect(await p.stop()).toEqual({ code: 0, signal: null });
      expect(p.lines().at(-1)).toMatchObject({ msg: "stopped", clean: true });
      await stream.body?.cancel().catch(() => {});
    }
  }, 180_000);

  /** SIGTERM while a command streams: what was published is applied and delivered, sockets close 1001, exit 0; a restart continues. */
  async function sigtermDuringStream(storeArgs: readonly string[]) {
    const env = { TOKENS: "200", TOKEN_DELAY_MS: "15" };
    const p = await new StartProcess(app.dir, storeArgs, env).ready();
    const sub = subscribe(p.url, "stream-1");
    await until(() => sub.frames.some((f) => f["subscribed"]), "subscribed");
    expect(await command(p.url, "stream-1", "ChatStartInference", { prompt: "long" })).toMatchObject({ status: 202 });
    await until(() => sub.uiEvents().length >= 5, "a few live frames");
    const exit = await p.stop("SIGTERM");
    expect(await sub.closed).toBe(1001);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(p.lines().at(-1)).toMatchObject({ msg: "stopped", clean: true });
    const ordinals = sub.uiEvents().map((e) => BigInt(e.eventOrdinal));
    expect(ordinals).toEqual(ordinals.map((_, i) => BigInt(i + 1)));
    const last = ordinals.at(-1)!;
    // The stream was cut mid-way, not finished.
    expect(sub.uiEvents().some((e) => e.name === "ChatMessageFinished")).toBe(false);

    const again = await new StartProcess(app.dir, storeArgs, { TOKENS: "2" }).ready();
    try {
      // Every event applied before the exit reached the client before its socket closed.
      const snap = await getJson(`${again.url}/api/sessions/stream-1/snapshot`);
      expect(snap.body.snapshotOrdinal).toBe(String(last));
      expect(snap.body.entities[0].payload.text).toBe(
        Array.from({ length: Number(last) - 1 }, (_, i) => `t${i} `).join(""),
      );
      const sub2 = subscribe(again.url, "stream-1");
      await until(() => sub2.frames.some((f) => f["subscribed"]), "subscribed after restart");
      expect(await command(again.url, "stream-1", "ChatStartInference", { prompt: "again" })).toMatchObject({ status: 202 });
      await until(() => sub2.uiEvents().some((e) => e.name === "ChatMessageFinished"), "the second stream");
      expect(sub2.uiEvents().map((e) => e.eventOrdinal)).toEqual([1n, 2n, 3n, 4n].map((n) => String(last + n)));
      sub2.ws.close();
    } finally {
      expect(await again.stop("SIGINT")).toEqual({ code: 0, signal: null });
    }
  }

  test("SIGTERM during a streaming command on SQLite: in-flight publishes finish, sockets close 1001, exit 0, a restart continues the ordinals", async () => {
    await sigtermDuringStream(["--store", "sqlite"]);
  }, 240_000);

  test.skipIf(pgSkip !== undefined)("SIGTERM during a streaming command on PostgreSQL (schema from ?options=-csearch_path=): the same", async () => {
    const schema = freshSchema();
    schemas.push(schema);
    const url = new URL(PG_URL);
    url.searchParams.set("options", `-csearch_path=${schema}`);
    await sigtermDuringStream(["--store", url.toString()]);
    const rows = await adminQuery<{ n: string }>(`SELECT count(*)::text AS n FROM "${schema}".ss_events WHERE session_id = 'stream-1'`);
    expect(Number(rows[0]!.n)).toBeGreaterThan(5);
  }, 240_000);

  test.skipIf(pgSkip !== undefined || redisSkip !== undefined)("PostgreSQL + Redis bus: commands through the bus; /readyz answers 503 naming the store or the bus that stopped answering, /healthz stays 200, and it recovers", async () => {
    const schema = freshSchema();
    schemas.push(schema);
    const prefix = freshPrefix();
    prefixes.push(prefix);
    const pgTarget = new URL(PG_URL);
    const redisTarget = new URL(REDIS_URL);
    const pgProxy = await tcpProxy(pgTarget.hostname, Number(pgTarget.port || 5432));
    const redisProxy = await tcpProxy(redisTarget.hostname, Number(redisTarget.port || 6379));
    const store = new URL(PG_URL);
    store.host = `127.0.0.1:${pgProxy.port}`;
    store.searchParams.set("schema", schema);
    const bus = `redis://127.0.0.1:${redisProxy.port}/?prefix=${prefix}`;
    const p = await new StartProcess(app.dir, ["--store", store.toString()], { SESSIONSTREAM_BUS: bus }).ready();
    try {
      expect(p.lines().find((l) => l.msg === "listening")).toMatchObject({ bus: expect.stringContaining(`redis://127.0.0.1:${redisProxy.port}`) });
      expect(await getJson(`${p.url}/readyz`)).toEqual({ status: 200, body: { status: "ready", store: { ok: true }, bus: { ok: true } } });
      // Commands travel through the Redis bus.
      const sub = subscribe(p.url, "r1");
      await until(() => sub.frames.some((f) => f["subscribed"]), "subscribed");
      expect(await command(p.url, "r1", "ChatStartInference", { prompt: "bus" })).toMatchObject({ status: 202 });
      await until(() => sub.uiEvents().some((e) => e.name === "ChatMessageFinished"), "the stream through the bus");
      sub.ws.close();

      await pgProxy.cut();
      const noStore = await getJson(`${p.url}/readyz`);
      expect(noStore).toMatchObject({ status: 503, body: { status: "unavailable", store: { ok: false, code: "store_unavailable" }, bus: { ok: true } } });
      expect(noStore.body.store.error).toContain(`127.0.0.1:${pgProxy.port}`);
      expect(await getJson(`${p.url}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
      await pgProxy.restore();
      await until(async () => (await fetch(`${p.url}/readyz`)).status === 200, "ready again after PostgreSQL is back");

      await redisProxy.cut();
      const noBus = await getJson(`${p.url}/readyz`);
      expect(noBus).toMatchObject({ status: 503, body: { status: "unavailable", store: { ok: true }, bus: { ok: false, code: "bus_unavailable" } } });
      expect(noBus.body.bus.error).toContain(`127.0.0.1:${redisProxy.port}`);
      await redisProxy.restore();
      await until(async () => (await fetch(`${p.url}/readyz`)).status === 200, "ready again after Redis is back");
    } finally {
      expect((await p.stop()).code).toBe(0);
      await pgProxy.close();
      await redisProxy.close();
    }
  }, 240_000);

  test.skipIf(networkAddress === undefined)("on 0.0.0.0: any Host over the network, loopback still checked; --allowed-host (env list) applies everywhere; origins", async () => {
    const open = await new StartProcess(app.dir, ["--host", "0.0.0.0", "--store", "memory"]).ready();
    try {
      const port = Number(new URL(open.url).port);
      expect(open.url).toBe(`http://0.0.0.0:${port}`);
      expect(await request(networkAddress!, port, "/healthz", { host: "anything.example" })).toBe(200);
      expect(await request("127.0.0.1", port, "/healthz", { host: "rebound.example" })).toBe(403);
      expect(await request("127.0.0.1", port, "/healthz", { host: "localhost" })).toBe(200);
      // Same-origin only on /api: a page of another origin is refused.
      expect(await request(networkAddress!, port, "/api/sessions/o1/snapshot", { host: "anything.example", origin: "https://evil.example" })).toBe(403);
      expect(await request(networkAddress!, port, "/api/sessions/o1/snapshot", { host: "anything.example", origin: "http://anything.example" })).toBe(200);
    } finally {
      await open.stop();
    }
    const listed = await new StartProcess(app.dir, ["--host", "0.0.0.0", "--store", "memory"], {
      SESSIONSTREAM_ALLOWED_HOSTS: "chat.example, .corp.example",
      SESSIONSTREAM_ALLOWED_ORIGINS: "https://pages.example",
    }).ready();
    try {
      const port = Number(new URL(listed.url).port);
      expect(await request(networkAddress!, port, "/healthz", { host: "anything.example" })).toBe(403);
      expect(await request(networkAddress!, port, "/healthz", { host: "chat.example" })).toBe(200);
      expect(await request(networkAddress!, port, "/healthz", { host: "a.corp.example" })).toBe(200);
      expect(await request(networkAddress!, port, "/healthz", { host: networkAddress! })).toBe(200);
      expect(await request(networkAddress!, port, "/api/sessions/o1/snapshot", { host: "chat.example", origin: "https://pages.example" })).toBe(200);
    } finally {
      await listed.stop();
    }
  }, 120_000);

  test("the shutdown is bounded by --shutdown-timeout: a request that never finishes is cut, exit 1", async () => {
    const p = await new StartProcess(app.dir, ["--store", "memory", "--shutdown-timeout", "1500"]).ready();
    const hanging = command(p.url, "h1", "ChatStartInference", { prompt: "hang" }).catch((err: unknown) => err);
    await until(async () => (await getJson(`${p.url}/api/sessions/h1/snapshot`)).status === 200 && true, "the server to answer");
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const exiting = p.stop("SIGTERM");
    // Draining: the listener is closed at once, so new connections are refused while the request hangs.
    await until(() => p.lines().some((l) => l.msg === "shutting down"), "the shutdown to begin", 5000);
    await expect(fetch(`${p.url}/healthz`)).rejects.toThrow();
    const exit = await exiting;
    const took = Date.now() - started;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(10_000);
    expect(p.lines().find((l) => l.msg === "shutting down")).toMatchObject({ inFlightRequests: 1, timeoutMs: 1500 });
    expect(p.lines().find((l) => l.level === "warn" && l["step"] === "in-flight requests")).toBeDefined();
    expect(p.lines().at(-1)).toMatchObject({ msg: "stopped (cut short by the shutdown timeout)", clean: false });
    expect(await hanging).toBeInstanceOf(Error);
  }, 120_000);

  test("an app whose generated code is missing: the error says to run gen in the build step, exit 1", async () => {
    const bare = copyStartApp();
    try {
      const appFile = join(bare.dir, "src/app.ts");
      writeFileSync(appFile, `import "./gen/app_sessionstream.js";\n${readFileSync(appFile, "utf8")}`);
      const run = await runStartToExit(bare.dir, ["--store", "memory"]);
      expect(run.code).toBe(1);
      const line = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Record<string, string>;
      expect(line).toMatchObject({ level: "error", code: "invalid_argument" });
      expect(line["msg"]).toContain("cannot load src/app.ts");
      expect(line["msg"]).toContain("run `npx sessionstream gen` before `sessionstream start`");
    } finally {
      bare.remove();
    }
  }, 120_000);

  test("an unreachable store or bus at start: a JSON error line naming the URL (password redacted) and the fix, exit 1", async () => {
    const port = await closedPort();
    const store = await runStartToExit(app.dir, ["--store", `postgres://app:sekret@127.0.0.1:${port}/db`]);
    expect(store.code).toBe(1);
    expect(store.stdout).not.toContain("sekret");
    const storeLine = JSON.parse(store.stdout.trim().split("\n").at(-1)!) as Record<string, string>;
    expect(storeLine).toMatchObject({ level: "error", code: "store_unavailable" });
    expect(storeLine["msg"]).toContain(`postgres://app:***@127.0.0.1:${port}/db`);
    expect(storeLine["msg"]).toContain("pg_isready");
    expect(storeLine["msg"]).toContain("SESSIONSTREAM_STORE");

    const bus = await runStartToExit(app.dir, ["--store", "memory", "--bus", `redis://:sekret@127.0.0.1:${port}`]);
    expect(bus.code).toBe(1);
    expect(bus.stdout).not.toContain("sekret");
    const busLine = JSON.parse(bus.stdout.trim().split("\n").at(-1)!) as Record<string, string>;
    expect(busLine).toMatchObject({ level: "error", code: "bus_unavailable" });
    expect(busLine["msg"]).toContain(`redis://:***@127.0.0.1:${port}`);
    expect(busLine["msg"]).toContain("redis-cli");
    expect(busLine["msg"]).toContain("SESSIONSTREAM_BUS");

    const bad = await runStartToExit(app.dir, ["--store", "mysql://x"]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout.trim())).toMatchObject({ level: "error", code: "invalid_argument", msg: expect.stringContaining("--store must be sqlite") });
  }, 180_000);
});
