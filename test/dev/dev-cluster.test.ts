// `dev --store postgres://… --bus redis://…`: a developer's dev server as one
// node of a local cluster. The PostgreSQL store is kept across reloads, each
// reload gets a fresh Redis bus, and an unreachable store fails at start.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { afterAll, describe, expect, test } from "vitest";
import { startDevServer } from "../../src/dev/dev-server.js";
import { parseBusSpec, parseStoreSpec } from "../../src/server/backends.js";
import { adminQuery, dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";
import { dropPrefixes, freshPrefix, REDIS_URL, redisUnavailable } from "../helpers/redis.js";
import { closedPort } from "../helpers/tcp-proxy.js";
import { command, subscribe } from "../helpers/start-app.js";
import { until } from "../helpers/until.js";

const repo = join(import.meta.dirname, "..", "..");
const skip = (await postgresUnavailable()) ?? (await redisUnavailable());
const dir = mkdtempSync(join(tmpdir(), "ss-dev-cluster-"));
const schema = freshSchema();
const prefix = freshPrefix();
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!skip) {
    await dropSchemas([schema]);
    await dropPrefixes([prefix]);
  }
});

const url = (p: string) => pathToFileURL(join(repo, p)).href;
mkdirSync(join(dir, "src"), { recursive: true });
writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
writeFileSync(
  join(dir, "src/app.ts"),
  `
import { Hub } from ${JSON.stringify(url("src/index.ts"))};
import { chatRegistry } from ${JSON.stringify(url("test/helpers/chat-app.ts"))};

export function createApp({ store, bus }: { store: any; bus?: any }) {
  const hub = new Hub({ registry: chatRegistry(), store, ...(bus ? { bus } : {}) });
  hub.registerCommand("ChatStartInference", async (cmd, _s, pub) => {
    await pub.publish("ChatInferenceStarted", { messageId: cmd.payload.prompt, prompt: cmd.payload.prompt });
  });
  hub.registerUIProjection((ev) => ev.name === "ChatInferenceStarted"
    ? [{ name: "ChatMessageStarted", payload: { messageId: ev.payload.messageId, text: ev.payload.prompt } }] : []);
  hub.registerTimelineProjection((ev) => ev.name === "ChatInferenceStarted"
    ? [{ kind: "ChatMessage", id: ev.payload.messageId, payload: { messageId: ev.payload.messageId, text: ev.payload.prompt } }] : []);
  return hub;
}
`,
);

describe("dev on PostgreSQL and Redis", () => {
  test.skipIf(skip !== undefined)("runs the app on the PostgreSQL store through the Redis bus, across a reload", async () => {
    const store = new URL(PG_URL);
    store.searchParams.set("schema", schema);
    const server = await startDevServer({
      cwd: dir,
      port: 0,
      watch: false,
      log: () => {},
      store: parseStoreSpec(store.toString(), dir, ".sessionstream/dev.sqlite"),
      bus: parseBusSpec(`${REDIS_URL}/?prefix=${prefix}`),
    });
    try {
      expect(server.storePath).toBe(`postgres ${PG_URL} (schema ${schema})`);
      const sub = subscribe(server.url, "c1");
      await until(() => sub.frames.some((f) => f["subscribed"]), "subscribed");
      expect(await command(server.url, "c1", "ChatStartInference", { prompt: "one" })).toMatchObject({ status: 202 });
      await until(() => sub.uiEvents().length === 1, "the first live frame");
      // Another generation: the same PostgreSQL store, a fresh bus.
      await server.reload();
      expect(server.status()).toMatchObject({ state: "ready", loadCount: 2 });
      expect(await command(server.url, "c1", "ChatStartInference", { prompt: "two" })).toMatchObject({ status: 202 });
      const sub2 = subscribe(server.url, "c1");
      await until(() => sub2.frames.find((f) => f["snapshot"]?.snapshotOrdinal === "2"), "the snapshot after the reload");
      sub.ws.close();
      sub2.ws.close();
    } finally {
      await server.close();
    }
    const rows = await adminQuery<{ ordinal: string }>(`SELECT ordinal::text FROM "${schema}".ss_events WHERE session_id = 'c1' ORDER BY ordinal`);
    expect(rows.map((r) => r.ordinal)).toEqual(["1", "2"]);
    const redis = new Redis(REDIS_URL);
    try {
      expect((await redis.keys(`${prefix}:*`)).length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  }, 120_000);

  test("an unreachable PostgreSQL fails dev at start with the URL (password redacted) and the fix", async () => {
    const port = await closedPort();
    const failed = startDevServer({
      cwd: dir,
      port: 0,
      watch: false,
      log: () => {},
      store: parseStoreSpec(`postgres://dev:sekret@127.0.0.1:${port}/db`, dir, ".sessionstream/dev.sqlite"),
    });
    await expect(failed).rejects.toMatchObject({ code: "store_unavailable", message: expect.stringContaining(`postgres://dev:***@127.0.0.1:${port}/db`) });
    await expect(failed).rejects.toThrow(/pg_isready/);
  }, 60_000);
});
