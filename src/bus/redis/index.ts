/**
 * `sessionstream/bus/redis`: the Redis Streams event bus for running one app
 * on several processes ("nodes") that share one Redis and one PostgreSQL.
 *
 * ```ts
 * import { Hub } from "sessionstream";
 * import { PostgresHydrationStore } from "sessionstream/store/postgres";
 * import { createRedisEventBus } from "sessionstream/bus/redis";
 *
 * const store = new PostgresHydrationStore({ connectionString: process.env.DATABASE_URL });
 * const bus = createRedisEventBus({ url: process.env.REDIS_URL }); // prefix, partitions, leaseMs, ...
 * await Promise.all([store.ready(), bus.ready()]); // fail fast: both errors name the URL and the fix
 * const hub = new Hub({ registry, store, bus });  // the hub attaches itself to the bus
 * // ... on SIGTERM: await hub.close() (applies queued events, then closes the bus); await store.close();
 * ```
 *
 * Options (every node of one system must use the same `prefix` and
 * `partitions`; see {@link RedisEventBusOptions}): `url` (default
 * `redis://127.0.0.1:6379`), `prefix` (`"sessionstream"`), `partitions` (16),
 * `leaseMs` (5000), `renewEveryMs` (`leaseMs / 5`), `readBlockMs` (1000),
 * `readBatch` (100), `publishTimeoutMs` (30000), `appliedMaxLen` (100000),
 * `connectTimeoutMs` (5000), `nodeId`, `onError`.
 *
 * Takeover: a node that dies stops renewing; its partitions are read by a
 * survivor at most `leaseMs + renewEveryMs + readBlockMs` later (6.0 s with
 * the defaults). Errors: `bus_unavailable` when Redis cannot be reached (at
 * start, naming the URL and the fix; mid-run, `publish` rejects with it and
 * the bus reconnects by itself).
 */
import { RedisEventBus, type RedisEventBusOptions } from "./redis-bus.js";

export { RedisEventBus, type RedisEventBusOptions } from "./redis-bus.js";
export { partitionOf } from "./wire.js";

/** Creates a {@link RedisEventBus}; pass it to `new Hub({ bus })`. Connects on `ready()` or first use. */
export function createRedisEventBus(options: RedisEventBusOptions = {}): RedisEventBus {
  return new RedisEventBus(options);
}
