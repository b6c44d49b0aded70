// Snapshot-before-live across nodes: websocket clients on node B subscribe
// while node A publishes (A's partition owner applies), on the real Redis and
// PostgreSQL. Each client gets a snapshot and then every later UI event once,
// in order, with no gap, and ends equal to the final snapshot.
import { afterAll, describe, expect, test } from "vitest";
import { createRedisEventBus } from "../../src/bus/redis/index.js";
import { PostgresHydrationStore } from "../../src/store/postgres/index.js";
import { chatHub, chatRegistry } from "../helpers/chat-app.js";
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";
import { dropPrefixes, freshPrefix, REDIS_URL, redisUnavailable } from "../helpers/redis.js";
import { until } from "../helpers/until.js";
import { connect, startHarness, type TestSocket } from "../transport/helpers.js";

const skip = (await redisUnavailable()) ?? (await postgresUnavailable());
const prefix = freshPrefix();
const schema = freshSchema();
afterAll(async () => {
  if (skip) return;
  await dropPrefixes([prefix]);
  await dropSchemas([schema]);
});

function node() {
  const store = new PostgresHydrationStore({ connectionString: PG_URL, schema, registry: chatRegistry(), poolSize: 4 });
  const bus = createRedisEventBus({ url: REDIS_URL, prefix, partitions: 4, leaseMs: 1000, renewEveryMs: 200, readBlockMs: 200, onError: () => {} });
  const hub = chatHub({ store, hubOptions: { bus, onError: () => {} } });
  return { store, bus, hub };
}

describe.skipIf(skip !== undefined)("Redis event bus: websocket clients on another node", () => {
  test("clients subscribing on node B while node A publishes get snapshot-before-live with no gap and no duplicate", async () => {
    const a = node();
    const b = node();
    const harness = await startHarness({ hub: b.hub });
    const clients: TestSocket[] = [];
    try {
      await Promise.all([a.bus.ready(), b.bus.ready()]);
      await until(() => a.bus.ownedPartitions().length === 2 && b.bus.ownedPartitions().length === 2, "the nodes to share the partitions");
      // A session applied by A, so B only learns of its events through the applied stream.
      let i = 0;
      while (!a.bus.ownedPartitions().includes(a.bus.partitionOf(`live-${i}`))) i++;
      const session = `live-${i}`;
      const pub = a.hub.publisher(session);
      await pub.publish("ChatInferenceStarted", { messageId: "m", prompt: "" });
      const total = 60;
      for (let k = 1; k < total; k++) {
        await pub.publish("ChatTokensDelta", { messageId: "m", chunk: `${k},` });
        if (k % 12 === 0) {
          const c = await connect(harness.url);
          clients.push(c);
          c.subscribe(session);
        }
      }
      const final = await b.hub.snapshot(session);
      expect(final.snapshotOrdinal).toBe(BigInt(total));
      const finalText = (final.entities[0]!.payload as unknown as { text: string }).text;
      for (const c of clients) {
        await c.next((r) => r.frame.frame.case === "uiEvent" && (r.frame.frame.value as { eventOrdinal: bigint }).eventOrdinal === BigInt(total), 0, 15_000);
        const frames = c.frames.map((r) => r.frame.frame);
        const snapshot = frames.find((f) => f.case === "snapshot")!.value as { snapshotOrdinal: bigint; entities: Array<{ payload?: { value: Uint8Array } }> };
        const live = frames.filter((f) => f.case === "uiEvent").map((f) => f.value as { eventOrdinal: bigint; name: string });
        // Snapshot first, then every later ordinal exactly once, in order.
        expect(frames.findIndex((f) => f.case === "snapshot")).toBeLessThan(frames.findIndex((f) => f.case === "uiEvent"));
        const expected = Array.from({ length: total - Number(snapshot.snapshotOrdinal) }, (_, k) => snapshot.snapshotOrdinal + BigInt(k + 1));
        expect(live.map((u) => u.eventOrdinal)).toEqual(expected);
        // Snapshot text plus the live chunks is the final text.
        const liveChunks = expected.map((o) => `${o - 1n},`).join("");
        expect(finalText.endsWith(liveChunks)).toBe(true);
        expect(finalText.length).toBeGreaterThan(liveChunks.length);
      }
      expect(clients.length).toBe(4);
    } finally {
      for (const c of clients) c.close();
      await harness.close();
      await a.hub.close();
      await b.hub.close();
      await Promise.all([a.store.close(), b.store.close()]);
    }
  }, 60_000);
});
