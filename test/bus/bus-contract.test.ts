// One contract over every event bus: the in-process default and the Redis
// Streams bus (on a memory store and on PostgreSQL). Redis and PostgreSQL
// are the real servers; a missing one skips its rows with a printed reason.
import { afterAll, describe, expect, test } from "vitest";
import { InProcessEventBus, MemoryHydrationStore, SessionstreamError, type EventBus, type HydrationStore } from "../../src/index.js";
import { hasEventLog } from "../../src/store/hydration-store.js";
import { createRedisEventBus } from "../../src/bus/redis/index.js";
import { PostgresHydrationStore } from "../../src/store/postgres/index.js";
import { chatHub, chatRegistry } from "../helpers/chat-app.js";
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";
import { dropPrefixes, freshPrefix, REDIS_URL, redisUnavailable } from "../helpers/redis.js";

const redisSkip = await redisUnavailable();
const pgSkip = await postgresUnavailable();
const prefixes = new Set<string>();
const schemas = new Set<string>();
afterAll(async () => {
  if (!redisSkip) await dropPrefixes(prefixes);
  if (!pgSkip) await dropSchemas(schemas);
});

interface BusKind {
  readonly name: string;
  readonly skip: string | undefined;
  open(): { bus: EventBus; store: HydrationStore };
}

const redisBus = () => {
  const prefix = freshPrefix();
  prefixes.add(prefix);
  return createRedisEventBus({ url: REDIS_URL, prefix, partitions: 4, leaseMs: 1000, onError: () => {} });
};
const kinds: BusKind[] = [
  { name: "in-process bus, memory store", skip: undefined, open: () => ({ bus: new InProcessEventBus(), store: new MemoryHydrationStore() }) },
  { name: "Redis bus, memory store", skip: redisSkip, open: () => ({ bus: redisBus(), store: new MemoryHydrationStore() }) },
  {
    name: "Redis bus, PostgreSQL store",
    skip: redisSkip ?? pgSkip,
    open: () => {
      const schema = freshSchema();
      schemas.add(schema);
      return { bus: redisBus(), store: new PostgresHydrationStore({ connectionString: PG_URL, schema, registry: chatRegistry() }) };
    },
  },
];

for (const kind of kinds) {
  describe.skipIf(kind.skip !== undefined)(`event bus contract: ${kind.name}`, () => {
    function open() {
      const { bus, store } = kind.open();
      const hub = chatHub({ store, hubOptions: { bus, onError: () => {} } });
      hub.registerUIProjection((ev) => {
        if (ev.name === "ChatTokensDelta" && ev.payload.chunk === "boom") throw new Error("projection refused boom");
        return [];
      });
      return { hub, store, close: async () => (await hub.close(), await store.close?.()) };
    }

    test("publishes of one session get ordinals 1..n in publish order, each resolving after the store has it", async () => {
      const { hub, store, close } = open();
      try {
        const pub = hub.publisher("s1");
        // Fired without awaiting, from one process: publish order is ordinal order.
        const chunks = Array.from({ length: 40 }, (_, i) => `c${i}`);
        const durable: Array<Promise<boolean>> = [];
        const ordinals = await Promise.all(
          chunks.map((chunk) => {
            const p = pub.publish("ChatTokensDelta", { messageId: "m", chunk });
            durable.push(p.then(async (o) => (await store.cursor("s1")) >= o));
            return p;
          }),
        );
        expect(ordinals).toEqual(chunks.map((_, i) => BigInt(i + 1)));
        expect(await Promise.all(durable)).toEqual(chunks.map(() => true));
        if (hasEventLog(store)) {
          const log = await store.readEvents("s1", 0n, 100);
          expect(log.map((e) => (e.payload as unknown as { chunk: string }).chunk)).toEqual(chunks);
        }
        expect(await hub.cursor("s1")).toBe(40n);
      } finally {
        await close();
      }
    });

    test("concurrent publishers on several sessions: per-session ordinals are dense and each publisher's are increasing", async () => {
      const { hub, close } = open();
      try {
        const sessions = ["a", "b", "c"];
        const publishers = Array.from({ length: 6 }, (_, i) => i);
        const results = await Promise.all(
          publishers.flatMap((w) =>
            sessions.map(async (s) => {
              const got: bigint[] = [];
              for (let i = 0; i < 8; i++) got.push(await hub.publisher(s).publish("ChatTokensDelta", { messageId: `w${w}`, chunk: `${i}` }));
              return { s, got };
            }),
          ),
        );
        for (const s of sessions) {
          const all = results.filter((r) => r.s === s).flatMap((r) => r.got);
          expect([...all].sort((x, y) => (x < y ? -1 : 1))).toEqual(Array.from({ length: 48 }, (_, i) => BigInt(i + 1)));
          for (const r of results.filter((r) => r.s === s)) expect([...r.got].sort((x, y) => (x < y ? -1 : 1))).toEqual(r.got);
          expect(await hub.cursor(s)).toBe(48n);
        }
      } finally {
        await close();
      }
    });

    test("a failing projection rejects that publish with projection_failed and does not consume its ordinal", async () => {
      const { hub, close } = open();
      try {
        const pub = hub.publisher("f");
        expect(await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "ok" })).toBe(1n);
        const err = (await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "boom" }).catch((e: unknown) => e)) as SessionstreamError;
        expect(err).toBeInstanceOf(SessionstreamError);
        expect(err.code).toBe("projection_failed");
        expect(await pub.publish("ChatTokensDelta", { messageId: "m", chunk: "ok" })).toBe(2n);
      } finally {
        await close();
      }
    });
  });
}
