// A node process killed with SIGKILL mid-stream, on the real Redis and
// PostgreSQL: no acknowledged event is lost, nothing is applied twice, and a
// surviving node takes its partitions over within the documented bound.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { createRedisEventBus } from "../../src/bus/redis/index.js";
import { PostgresHydrationStore } from "../../src/store/postgres/index.js";
import { chatHub, chatRegistry } from "../helpers/chat-app.js";
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";
import { dropPrefixes, freshPrefix, REDIS_URL, redisUnavailable } from "../helpers/redis.js";
import { until } from "../helpers/until.js";

const skip = (await redisUnavailable()) ?? (await postgresUnavailable());
const prefix = freshPrefix();
const schema = freshSchema();
afterAll(async () => {
  if (skip) return;
  await dropPrefixes([prefix]);
  await dropSchemas([schema]);
});

const timing = { leaseMs: 1000, renewEveryMs: 200, readBlockMs: 200 };
const partitions = 4;

describe.skipIf(skip !== undefined)("Redis event bus: a node killed with SIGKILL", () => {
  test("loses no acknowledged event, applies nothing twice, and its partitions are taken over within leaseMs + renewEveryMs + readBlockMs", async () => {
    const sessions = Array.from({ length: 6 }, (_, i) => `k${i}`);
    const config = { redisUrl: REDIS_URL, pgUrl: PG_URL, schema, prefix, partitions, sessions, ...timing };
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fixtures/cluster-node.ts"), JSON.stringify(config)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const acks: Array<{ session: string; ordinal: bigint; chunk: string }> = [];
    let childOwned: number[] = [];
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const line of lines) {
        const [kind, ...rest] = line.split(" ");
        if (kind === "ack") acks.push({ session: rest[0]!, ordinal: BigInt(rest[1]!), chunk: rest[2]! });
        else if (kind === "owned") childOwned = JSON.parse(rest.join(" ")) as number[];
      }
    });
    const store = new PostgresHydrationStore({ connectionString: PG_URL, schema, registry: chatRegistry() });
    const bus = createRedisEventBus({ url: REDIS_URL, prefix, partitions, ...timing, onError: () => {} });
    let hub: ReturnType<typeof chatHub> | undefined;
    try {
      await until(() => childOwned.length === partitions, `the child node to own every partition (stderr: ${stderr})`, 30_000);
      hub = chatHub({ store, hubOptions: { bus, onError: () => {} } });
      await until(() => bus.ownedPartitions().length === partitions / 2 && childOwned.length === partitions / 2, "the two nodes to share the partitions");
      const killedPartitions = [...childOwned];
      child.stdin.write("go\n");
      await until(() => acks.length >= 60, "the child to acknowledge events", 30_000);
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const acked = [...acks];

      // A session in a partition the dead node owned: served by the survivor within the bound.
      let i = 0;
      while (!killedPartitions.includes(bus.partitionOf(`after-${i}`))) i++;
      const started = Date.now();
      expect(await hub.publisher(`after-${i}`).publish("ChatTokensDelta", { messageId: "m", chunk: "x" })).toBe(1n);
      expect(Date.now() - started).toBeLessThan(timing.leaseMs + timing.renewEveryMs + timing.readBlockMs + 1500);
      expect(bus.ownedPartitions()).toEqual([0, 1, 2, 3]);

      for (const session of sessions) {
        // Entries the dead node appended but had not applied are applied by the survivor;
        // a publish after them gets the next ordinal, so the log has no gap.
        const next = await hub.publisher(session).publish("ChatTokensDelta", { messageId: "m", chunk: "end" });
        const log = await store.readEvents(session, 0n, 100_000);
        expect(log.map((e) => e.ordinal)).toEqual(Array.from({ length: Number(next) }, (_, k) => BigInt(k + 1)));
        const chunks = log.map((e) => (e.payload as unknown as { chunk: string }).chunk);
        // Exactly once in effect: no chunk twice, and every acknowledged one at its ordinal.
        expect(new Set(chunks).size).toBe(chunks.length);
        for (const ack of acked.filter((a) => a.session === session)) expect(chunks[Number(ack.ordinal) - 1]).toBe(ack.chunk);
        // The chunks are in publish order (the dead node published them sequentially).
        const published = chunks.slice(0, -1).map((c) => Number(c.slice(1)));
        expect(published).toEqual(published.map((_, k) => k));
      }
    } finally {
      child.kill("SIGKILL");
      await hub?.close();
      await store.close();
    }
  }, 90_000);
});
