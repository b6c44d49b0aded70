// Redis for tests: the server of the machine (127.0.0.1:6379, nothing kept on
// disk), or SESSIONSTREAM_TEST_REDIS. Each test uses its own key prefix
// (`sstest:<random>`) and deletes its keys afterwards, so runs never collide.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

/** The server tests use. */
export const REDIS_URL = process.env["SESSIONSTREAM_TEST_REDIS"] ?? "redis://127.0.0.1:6379";

/** Why Redis tests cannot run here, or `undefined` when the server answers. Prints the reason. */
export async function redisUnavailable(): Promise<string | undefined> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (err) {
    const reason =
      `Redis tests skipped: no server at ${REDIS_URL} (${(err as Error).message}); start it with ` +
      '`redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log` or set SESSIONSTREAM_TEST_REDIS';
    console.warn(reason);
    return reason;
  } finally {
    redis.disconnect();
  }
}

/** A fresh key prefix for one test. */
export function freshPrefix(): string {
  return `sstest:${randomBytes(6).toString("hex")}`;
}

/** Deletes every key under the prefixes. */
export async function dropPrefixes(prefixes: Iterable<string>): Promise<void> {
  const list = [...prefixes];
  if (list.length === 0) return;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    for (const prefix of list) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
    }
  } finally {
    redis.disconnect();
  }
}
