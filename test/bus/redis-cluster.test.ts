// Several hubs ("nodes") in one process on the same real Redis and
// PostgreSQL, each with its own bus instance and connections: what one
// system of N nodes guarantees. Skipped with a printed reason when Redis or
// PostgreSQL does not answer.
import { Redis } from "ioredis";
import { afterAll, describe, expect, test } from "vitest";
import { SessionstreamError, type UIEvent } from "../../src/index.js";
import { createRedisEventBus, type RedisEventBus, type RedisEventBusOptions } from "../../src/bus/redis/index.js";
import { PostgresHydrationStore } from "../../src/store/postgres/index.js";
import { chatHub, chatRegistry, foldChatUI } from "../helpers/chat-app.js";
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";
import { dropPrefixes, freshPrefix, REDIS_URL, redisUnavailable } from "../helpers/redis.js";
import { closedPort, tcpProxy } from "../helpers/tcp-proxy.js";
import { until } from "../helpers/until.js";

const skip = (await redisUnavailable()) ?? (await postgresUnavailable());
const prefixes = new Set<string>();
const schemas = new Set<string>();
afterAll(async () => {
  if (skip) return;
  await dropPrefixes(prefixes);
  await dropSchemas(schemas);
});

const FAST = { leaseMs: 1000, renewEveryMs: 200, readBlockMs: 200 } as const;

function system(partitions = 8) {
  const prefix = freshPrefix();
  const schema = freshSchema();
  prefixes.add(prefix);
  schemas.add(schema);
  const nodes: Node[] = [];
  return {
    prefix,
    nodes,
    node(options: Partial<RedisEventBusOptions> = {}) {
      const n = openNode({ prefix, schema, partitions, ...FAST, ...options });
      nodes.push(n);
      return n;
    },
    async close() {
      for (const n of nodes) await n.close();
    },
  };
}

type Node = ReturnType<typeof openNode>;

function openNode(options: RedisEventBusOptions & { schema: string }) {
  const { schema, ...busOptions } = options;
  const store = new PostgresHydrationStore({ connectionString: PG_URL, schema, registry: chatRegistry(), poolSize: 4 });
  const bus = createRedisEventBus({ url: REDIS_URL, onError: () => {}, ...busOptions });
  const seen = new Map<string, Array<{ ordinal: bigint; events: readonly UIEvent[] }>>();
  const hub = chatHub({
    store,
    hubOptions: { bus, onError: () => {} },
    fanout: {
      publishUI(sessionId, ordinal, uiEvents) {
        const list = seen.get(sessionId) ?? [];
        list.push({ ordinal, events: uiEvents });
        seen.set(sessionId, list);
      },
    },
  });
  let closed = false;
  return {
    hub,
    bus: bus as RedisEventBus,
    store,
    seen,
    /** Ordinals this node's fanout received for a session, in arrival order. */
    ordinals: (sessionId: string) => (seen.get(sessionId) ?? []).map((s) => s.ordinal),
    async close() {
      if (closed) return;
      closed = true;
      await hub.close().catch(() => {});
      await store.close();
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => BigInt(i + 1));
const sorted = (xs: bigint[]) => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

async function settled(nodes: Node[], partitions: number) {
  await until(() => {
    const owned = nodes.map((n) => n.bus.ownedPartitions());
    const all = owned.flat();
    return all.length === partitions && new Set(all).size === partitions && owned.every((o) => o.length > 0);
  }, "the partitions to be shared by every node");
}

describe.skipIf(skip !== undefined)("Redis event bus: several nodes on one Redis + PostgreSQL", () => {
  test("three nodes publishing concurrently to the same sessions agree on ordinals, every node fans out every UI event once in order, snapshots equal the fold", async () => {
    const sys = system(8);
    const nodes = [sys.node(), sys.node(), sys.node()];
    try {
      await Promise.all(nodes.map((n) => n.bus.ready()));
      await settled(nodes, 8);
      const sessions = ["alpha", "beta", "gamma", "delta", "epsilon"];
      const perNode = 8; // events per node and session
      const resolved = await Promise.all(
        nodes.flatMap((n, i) =>
          sessions.map(async (s) => {
            const pub = n.hub.publisher(s);
            const messageId = `n${i}`;
            const got = [await pub.publish("ChatInferenceStarted", { messageId, prompt: "p" })];
            for (let k = 0; k < perNode - 2; k++) got.push(await pub.publish("ChatTokensDelta", { messageId, chunk: `${i}.${k} ` }));
            got.push(await pub.publish("ChatInferenceFinished", { messageId }));
            return { s, got };
          }),
        ),
      );
      const total = nodes.length * perNode;
      for (const s of sessions) {
        // Dense, distinct ordinals across the nodes; each publisher's increase.
        const mine = resolved.filter((r) => r.s === s);
        expect(sorted(mine.flatMap((r) => r.got))).toEqual(range(total));
        for (const r of mine) expect(sorted(r.got)).toEqual(r.got);
        // The one log: the ordinal each publish resolved with is its event's.
        const log = await nodes[0]!.store.readEvents(s, 0n, 1000);
        expect(log.map((e) => e.ordinal)).toEqual(range(total));
        // Every node's fanout: every ordinal exactly once, in order.
        await until(() => nodes.every((n) => n.ordinals(s).length >= total), `every node to fan out ${total} events of ${s}`);
        const snapshots = await Promise.all(nodes.map((n) => n.hub.snapshot(s)));
        for (const [i, n] of nodes.entries()) {
          expect(n.ordinals(s), `node ${i}, session ${s}`).toEqual(range(total));
          const fold = foldChatUI((n.seen.get(s) ?? []).flatMap((x) => x.events) as never);
          const snap = snapshots[i]!;
          expect(snap.snapshotOrdinal).toBe(BigInt(total));
          const fromSnapshot = new Map(
            snap.entities.map((e) => {
              const p = e.payload as unknown as { messageId: string; text: string; status: string };
              return [p.messageId, { text: p.text, status: p.status }];
            }),
          );
          expect(fromSnapshot).toEqual(fold);
          expect(snap).toEqual(snapshots[0]);
        }
        expect([...foldChatUI((nodes[0]!.seen.get(s) ?? []).flatMap((x) => x.events) as never).values()]).toHaveLength(3);
      }
    } finally {
      await sys.close();
    }
  });

  test("a node that stops renewing (its Redis connections cut) has its partitions and unfinished entries taken over within leaseMs + renewEveryMs + readBlockMs", async () => {
    const sys = system(4);
    const proxy = await tcpProxy(new URL(REDIS_URL).hostname, Number(new URL(REDIS_URL).port || 6379));
    const a = sys.node({ url: `redis://127.0.0.1:${proxy.port}` });
    const b = sys.node();
    try {
      await Promise.all([a.bus.ready(), b.bus.ready()]);
      await settled([a, b], 4);
      const owned = a.bus.ownedPartitions();
      let i = 0;
      while (!owned.includes(a.bus.partitionOf(`takeover-${i}`))) i++;
      const session = `takeover-${i}`;
      // B publishes, A (the owner) applies: A now caches the session at ordinal 3.
      for (let i = 1; i <= 3; i++) expect(await b.hub.publisher(session).publish("ChatTokensDelta", { messageId: "m", chunk: `${i}` })).toBe(BigInt(i));
      expect(await a.hub.cursor(session)).toBe(3n);

      await proxy.cut(); // A can no longer renew: as good as dead for the others
      const started = Date.now();
      const ordinal = await b.hub.publisher(session).publish("ChatTokensDelta", { messageId: "m", chunk: "4" });
      const elapsed = Date.now() - started;
      expect(ordinal).toBe(4n);
      expect(elapsed).toBeLessThan(FAST.leaseMs + FAST.renewEveryMs + FAST.readBlockMs + 1500);
      expect(b.bus.ownedPartitions()).toEqual([0, 1, 2, 3]);
      // A comes back and gets its share again.
      await proxy.restore();
      await settled([a, b], 4);
      expect(await a.hub.publisher(session).publish("ChatTokensDelta", { messageId: "m", chunk: "5" })).toBe(5n);
      const log = await b.store.readEvents(session, 0n, 100);
      expect(log.map((e) => (e.payload as unknown as { chunk: string }).chunk)).toEqual(["1", "2", "3", "4", "5"]);
    } finally {
      await sys.close();
      await proxy.close();
    }
  });

  test("a node whose cached session state is behind (another node applied meanwhile) reloads it before projecting", async () => {
    const sys = system(1);
    const proxy = await tcpProxy(new URL(REDIS_URL).hostname, Number(new URL(REDIS_URL).port || 6379));
    const a = sys.node({ url: `redis://127.0.0.1:${proxy.port}` });
    try {
      await a.bus.ready();
      await until(() => a.bus.ownedPartitions().length === 1, "A to own the partition");
      await a.hub.publisher("s").publish("ChatInferenceStarted", { messageId: "m", prompt: "" });
      await a.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m", chunk: "a" });
      expect(await a.hub.cursor("s")).toBe(2n); // A's cached state: ordinal 2, text "a"
      // A is cut off; B takes the partition and applies ordinal 3.
      await proxy.cut();
      const b = sys.node();
      await until(() => b.bus.ownedPartitions().length === 1, "B to take the partition");
      expect(await b.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m", chunk: "b" })).toBe(3n);
      // A is back and B leaves: A owns the partition again, with its cache still at ordinal 2.
      await proxy.restore();
      await until(() => a.bus.ownedPartitions().length === 0, "A to learn that B holds the partition");
      await b.close();
      await until(() => a.bus.ownedPartitions().length === 1, "A to take the partition back");
      // Applied on a stale view this would be ordinal 3 again (refused by the store) with text "ac".
      expect(await a.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m", chunk: "c" })).toBe(4n);
      const snap = await a.hub.snapshot("s");
      expect((snap.entities[0]!.payload as unknown as { text: string }).text).toBe("abc");
    } finally {
      await sys.close();
      await proxy.close();
    }
  });

  test("a publish no node applies within publishTimeoutMs rejects with bus_unavailable, and a late notice is harmless", async () => {
    const sys = system(2);
    // Another (dead-looking) owner holds every lease, so no live node reads the partitions.
    const redis = new Redis(REDIS_URL);
    try {
      for (const p of [0, 1]) await redis.set(`${sys.prefix}:lease:${p}`, "ghost-node", "PX", 60_000);
      const n = sys.node({ publishTimeoutMs: 300 });
      const err = (await n.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m1", chunk: "x" }).catch((e: unknown) => e)) as SessionstreamError;
      expect(err).toBeInstanceOf(SessionstreamError);
      expect(err.code).toBe("bus_unavailable");
      expect(err.message).toMatch(/^no node applied event "ChatTokensDelta" of session "s" within publishTimeoutMs 300 \(Redis at .*\); it may still be applied$/);
      // The ghost goes away: the node takes the partitions over and applies the entry; its waiter is gone, nothing throws.
      for (const p of [0, 1]) await redis.del(`${sys.prefix}:lease:${p}`);
      await until(async () => (await n.hub.cursor("s")) === 1n, "the timed-out event to be applied by the node that took the partitions over", 20_000);
      expect(await n.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m1", chunk: "y" })).toBe(2n);
    } finally {
      redis.disconnect();
      await sys.close();
    }
  });

  test("Redis cut mid-run: publish rejects with bus_unavailable, and the bus recovers by itself when Redis is back", async () => {
    const sys = system(2);
    const proxy = await tcpProxy(new URL(REDIS_URL).hostname, Number(new URL(REDIS_URL).port || 6379));
    const a = sys.node({ url: `redis://127.0.0.1:${proxy.port}` });
    try {
      await a.bus.ready();
      await until(() => a.bus.ownedPartitions().length === 2, "A to own both partitions");
      expect(await a.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m", chunk: "1" })).toBe(1n);
      await proxy.cut();
      const err = (await a.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m", chunk: "lost" }).catch((e: unknown) => e)) as SessionstreamError;
      expect(err).toBeInstanceOf(SessionstreamError);
      expect(err.code).toBe("bus_unavailable");
      expect(err.message).toContain(`Redis at redis://127.0.0.1:${proxy.port} is unreachable`);
      // Snapshots are served from the store meanwhile.
      expect((await a.hub.snapshot("s")).snapshotOrdinal).toBe(1n);
      await proxy.restore();
      const ordinal = await until(
        () => a.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m", chunk: "2" }).catch(() => undefined),
        "publish to succeed after Redis is back",
        15_000,
        100,
      );
      expect(ordinal).toBe(2n);
      expect(await a.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m", chunk: "3" })).toBe(3n);
    } finally {
      await sys.close();
      await proxy.close();
    }
  });

  test("Redis unreachable at start: ready() rejects with bus_unavailable naming the URL and the fix", async () => {
    const port = await closedPort();
    const bus = createRedisEventBus({ url: `redis://:secret@127.0.0.1:${port}`, connectTimeoutMs: 1000, onError: () => {} });
    const err = (await bus.ready().catch((e: unknown) => e)) as SessionstreamError;
    expect(err).toBeInstanceOf(SessionstreamError);
    expect(err.code).toBe("bus_unavailable");
    expect(err.message).toContain(`cannot connect to Redis at redis://:***@127.0.0.1:${port}`);
    expect(err.message).toContain("redis-cli -h <host> -p <port> ping");
    expect(err.message).not.toContain("secret");
    await bus.close();
  });

  test("nodes configured with different partition counts on one prefix are refused", async () => {
    const sys = system(8);
    const a = sys.node();
    try {
      await a.bus.ready();
      const other = createRedisEventBus({ url: REDIS_URL, prefix: sys.prefix, partitions: 4, onError: () => {} });
      const err = (await other.ready().catch((e: unknown) => e)) as SessionstreamError;
      expect(err.code).toBe("invalid_argument");
      expect(err.message).toContain(`uses 8 partitions, but this node was configured with 4`);
      await other.close();
    } finally {
      await sys.close();
    }
  });

  test("the lease and checkpoint scripts go by SHA1, and a server that lost its script cache (SCRIPT FLUSH) is sent them again", async () => {
    const sys = system(2);
    const a = sys.node();
    const admin = new Redis(REDIS_URL);
    try {
      await a.bus.ready();
      await settled([a], 2);
      const calls = async () => {
        const stats = await admin.info("commandstats");
        const count = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
        return { evalsha: count("evalsha"), eval: count("eval") };
      };
      const before = await calls();
      for (let i = 1; i <= 3; i++) expect(await a.hub.publisher("sha").publish("ChatTokensDelta", { messageId: "m", chunk: `${i}` })).toBe(BigInt(i));
      await new Promise((r) => setTimeout(r, 3 * FAST.renewEveryMs));
      const after = await calls();
      // Other test files share this server: only what grew matters, and EVALSHA must have.
      expect(after.evalsha).toBeGreaterThan(before.evalsha);
      await admin.script("FLUSH");
      for (let i = 4; i <= 6; i++) expect(await a.hub.publisher("sha").publish("ChatTokensDelta", { messageId: "m", chunk: `${i}` })).toBe(BigInt(i));
      // Leases are still renewed and partitions still owned after the flush.
      await new Promise((r) => setTimeout(r, 3 * FAST.renewEveryMs));
      expect(a.bus.ownedPartitions().sort()).toEqual([0, 1]);
      expect(await a.hub.publisher("sha").publish("ChatTokensDelta", { messageId: "m", chunk: "7" })).toBe(7n);
    } finally {
      admin.disconnect();
      await sys.close();
    }
  });
});
