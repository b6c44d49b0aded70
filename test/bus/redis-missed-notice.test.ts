// The live path when a node dies between its PostgreSQL commit and its
// "applied" notice, on the real Redis and PostgreSQL. Node A owns the only
// partition; websocket clients sit on nodes B and C. A commits event 3 and
// is cut off before telling anyone; one of B and C takes the partition over,
// finds event 3 already applied (a duplicate by event id) and says so. On
// both nodes, clients that opted in to `resume=delta` get a fresh snapshot
// holding event 3 on the same connection, reference clients are closed with
// 1013 (`events_missed`) and resubscribe; nobody silently lacks event 3.
import { afterAll, describe, expect, test } from "vitest";
import { createRedisEventBus, type RedisEventBus } from "../../src/bus/redis/index.js";
import { PostgresHydrationStore } from "../../src/store/postgres/index.js";
import { chatHub, chatRegistry } from "../helpers/chat-app.js";
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";
import { dropPrefixes, freshPrefix, REDIS_URL, redisUnavailable } from "../helpers/redis.js";
import { tcpProxy } from "../helpers/tcp-proxy.js";
import { until } from "../helpers/until.js";
import { connect, startHarness, type Harness, type TestSocket } from "../transport/helpers.js";

const skip = (await redisUnavailable()) ?? (await postgresUnavailable());
if (skip) console.log(`skipping the missed-notice test: ${skip}`);
const prefix = freshPrefix();
const schema = freshSchema();
afterAll(async () => {
  if (skip) return;
  await dropPrefixes([prefix]);
  await dropSchemas([schema]);
});

function node(url = REDIS_URL) {
  const store = new PostgresHydrationStore({ connectionString: PG_URL, schema, registry: chatRegistry(), poolSize: 4 });
  const bus = createRedisEventBus({ url, prefix, partitions: 1, leaseMs: 1000, renewEveryMs: 200, readBlockMs: 200, onError: () => {} }) as RedisEventBus;
  const hub = chatHub({ store, hubOptions: { bus, onError: () => {} } });
  return { store, bus, hub };
}

const textOf = (r: { json: unknown }) => (r.json as { snapshot: { entities?: Array<{ payload: { text?: string } }> } }).snapshot.entities?.[0]?.payload.text ?? "";

describe.skipIf(skip !== undefined)("Redis event bus: a node that dies between its commit and its notice", () => {
  test("subscribers on every other node resync (delta) or are told to resubscribe (reference); none keeps a hole", async () => {
    const proxy = await tcpProxy(new URL(REDIS_URL).hostname, Number(new URL(REDIS_URL).port || 6379));
    const a = node(`redis://127.0.0.1:${proxy.port}`);
    const others: Array<ReturnType<typeof node>> = [];
    const harnesses: Harness[] = [];
    const sockets: TestSocket[] = [];
    try {
      await a.bus.ready();
      await until(() => a.bus.ownedPartitions().length === 1, "A to own the partition");
      others.push(node(), node());
      await Promise.all(others.map((n) => n.bus.ready()));
      for (const n of others) harnesses.push(await startHarness({ hub: n.hub }));
      const pub = others[0]!.hub.publisher("gap");
      await pub.publish("ChatInferenceStarted", { messageId: "m", prompt: "" });
      await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "a" });
      const clients = [];
      for (const h of harnesses) {
        const delta = await connect(h.url + "?resume=delta");
        const ref = await connect(h.url);
        sockets.push(delta, ref);
        for (const c of [delta, ref]) {
          c.subscribe("gap");
          await c.nextCase("subscribed");
        }
        clients.push({ h, delta, ref });
      }

      // A commits the next event, then loses Redis before its notice.
      const apply = a.store.apply.bind(a.store);
      let cut: Promise<void> | undefined;
      a.store.apply = async (write) => {
        await apply(write);
        cut ??= proxy.cut();
        await cut;
      };
      const started = Date.now();
      expect(await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "b" })).toBe(3n);
      expect(Date.now() - started).toBeLessThan(1000 + 200 + 200 + 3000); // taken over within leaseMs + renewEveryMs + readBlockMs
      expect(others.some((n) => n.bus.ownedPartitions().length === 1)).toBe(true);
      // Before anything else happens in the session, every client already knows of event 3.
      for (const { h, delta, ref } of clients) {
        const resync = await delta.next((r) => r.frame.frame.case === "snapshot" && r.frame.frame.value.resync, 0, 10_000);
        expect(resync.frame.frame.value).toMatchObject({ snapshotOrdinal: 3n });
        expect(textOf(resync)).toBe("ab");
        expect(h.records.some((r) => r.type === "resync" && r.code === "events_missed")).toBe(true);
        await delta.next((r) => r.frame.frame.case === "subscribed", delta.frames.indexOf(resync));
        expect(await Promise.race([ref.closed, new Promise((r) => setTimeout(() => r("open"), 10_000))])).toBe(1013);
        expect(ref.frames.find((r) => r.frame.frame.case === "error")?.json).toMatchObject({ error: { code: "events_missed", sessionId: "gap" } });
      }
      // Live again: event 4 arrives as a frame; event 3 never did.
      expect(await others[0]!.hub.publisher("gap").publish("ChatTokensDelta", { messageId: "m", chunk: "c" })).toBe(4n);
      for (const { delta } of clients) {
        expect(delta.frames.find((r) => r.frame.frame.case === "snapshot")!.frame.frame.value).toMatchObject({ snapshotOrdinal: 2n });
        await delta.next((r) => r.frame.frame.case === "uiEvent" && r.frame.frame.value.eventOrdinal === 4n, 0, 10_000);
        const live = delta.frames.flatMap((r) => (r.frame.frame.case === "uiEvent" ? [r.frame.frame.value.eventOrdinal] : []));
        expect(live).toEqual([4n]);
      }
    } finally {
      for (const s of sockets) s.close();
      for (const h of harnesses) await h.close();
      await proxy.close();
      for (const n of [...others, a]) {
        await n.hub.close().catch(() => {});
        await n.store.close();
      }
    }
  }, 60_000);
});
