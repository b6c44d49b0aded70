// The store and bus an app runs on, from `--store` / `--bus` (or
// SESSIONSTREAM_STORE / SESSIONSTREAM_BUS): parsed, described with passwords
// redacted, opened with a clear error when unreachable, and probed for /readyz.
import { resolve } from "node:path";
import { errorMessage, SessionstreamError } from "../runtime/errors.js";
import type { EventBus } from "../runtime/event-bus.js";
import type { HydrationStore } from "../store/hydration-store.js";
import { MemoryHydrationStore } from "../store/memory/memory-store.js";
import { redactConnectionString } from "../store/postgres/pg-errors.js";
import { SqliteHydrationStore } from "../store/sqlite/sqlite-store.js";

/** Which store an app runs on. */
export type StoreSpec =
  | { readonly kind: "memory" }
  | { readonly kind: "sqlite"; readonly path: string }
  | {
      readonly kind: "postgres";
      /** The connection string handed to `pg` (without the `schema` parameter). */
      readonly url: string;
      /** PostgreSQL schema of the tables: `?schema=`, else the URL's `-csearch_path=`; default `public`. */
      readonly schema?: string;
      /** Connections of the store's pool: `?pool_size=`; default the store's (10). */
      readonly poolSize?: number;
    };

/** Which event bus an app runs on. */
export type BusSpec = { readonly kind: "redis"; readonly url: string };

/** How `--store` is spelled. */
export const STORE_SYNTAX = "sqlite, sqlite:<file>, memory or a postgres://user:pass@host:5432/db URL";

/**
 * Parses a `--store` value: `memory`, `sqlite` (at `defaultSqlitePath`),
 * `sqlite:<file>` (relative to `cwd`), or a `postgres://` / `postgresql://`
 * URL whose optional `schema` parameter names the PostgreSQL schema (else a
 * `search_path` in `options=-csearch_path=<schema>`, else `public`) and
 * `pool_size` the size of the store's connection pool.
 */
export function parseStoreSpec(value: string, cwd: string, defaultSqlitePath: string): StoreSpec {
  const v = value.trim();
  if (v === "memory") return { kind: "memory" };
  if (v === "sqlite") return { kind: "sqlite", path: resolve(cwd, defaultSqlitePath) };
  if (v.startsWith("sqlite:") && v.length > "sqlite:".length) return { kind: "sqlite", path: resolve(cwd, v.slice("sqlite:".length)) };
  if (/^postgres(ql)?:\/\//i.test(v)) {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      throw new SessionstreamError("invalid_argument", `--store: not a valid URL: ${redactUrl(v)}`);
    }
    const schema = url.searchParams.get("schema") ?? searchPathOf(url.searchParams.get("options"));
    const poolSize = url.searchParams.get("pool_size");
    if (poolSize !== null && !/^[1-9]\d*$/.test(poolSize)) {
      throw new SessionstreamError("invalid_argument", `--store: pool_size must be a positive integer, got "${poolSize}"`);
    }
    url.searchParams.delete("schema");
    url.searchParams.delete("pool_size");
    return { kind: "postgres", url: url.toString(), ...(schema ? { schema } : {}), ...(poolSize ? { poolSize: Number(poolSize) } : {}) };
  }
  throw new SessionstreamError("invalid_argument", `--store must be ${STORE_SYNTAX}; got "${redactUrl(v)}"`);
}

/** Parses a `--bus` value: a `redis://` or `rediss://` URL. */
export function parseBusSpec(value: string): BusSpec {
  const v = value.trim();
  if (/^rediss?:\/\//i.test(v)) {
    try {
      new URL(v);
    } catch {
      throw new SessionstreamError("invalid_argument", `--bus: not a valid URL: ${redactUrl(v)}`);
    }
    return { kind: "redis", url: v };
  }
  throw new SessionstreamError("invalid_argument", `--bus must be a redis://[user:pass@]host:6379[/db] URL; got "${redactUrl(v)}"`);
}

/** The schema of `-csearch_path=<name>` (or `-c search_path=<name>`) in a libpq `options` value. */
function searchPathOf(options: string | null): string | undefined {
  const m = options?.match(/-c\s*search_path\s*=\s*([^\s,]+)/);
  return m?.[1];
}

/** A URL with its password (and any `*pass*` parameter) replaced by `***`. */
export const redactUrl = redactConnectionString;

/** What a store spec names, for logs and banners (passwords redacted). */
export function describeStore(spec: StoreSpec): string {
  if (spec.kind === "memory") return "memory (state is lost when the process stops)";
  if (spec.kind === "sqlite") return `sqlite ${spec.path}`;
  return `postgres ${redactUrl(spec.url)}${spec.schema ? ` (schema ${spec.schema})` : ""}`;
}

/** What a bus spec names (password redacted); `in-process` without one. */
export function describeBus(spec: BusSpec | undefined): string {
  return spec ? `redis ${redactUrl(spec.url)}` : "in-process (single node)";
}

/**
 * Opens the store and, for PostgreSQL, connects and migrates now: an
 * unreachable server rejects with `store_unavailable`, naming the URL
 * (password redacted) and the fix.
 */
export async function openStore(spec: StoreSpec): Promise<HydrationStore> {
  if (spec.kind === "memory") return new MemoryHydrationStore();
  if (spec.kind === "sqlite") return new SqliteHydrationStore({ path: spec.path });
  const { PostgresHydrationStore } = await import("../store/postgres/index.js");
  const store = new PostgresHydrationStore({
    connectionString: spec.url,
    ...(spec.schema ? { schema: spec.schema } : {}),
    ...(spec.poolSize ? { poolSize: spec.poolSize } : {}),
  });
  try {
    await store.ready();
  } catch (err) {
    await store.close().catch(() => {});
    const e = SessionstreamError.from(err);
    throw new SessionstreamError(e.code, `${e.message} (the store URL comes from --store or SESSIONSTREAM_STORE)`, { cause: err });
  }
  return store;
}

/** The module of the Redis bus, loaded only when `--bus` asks for it. */
const REDIS_BUS_MODULE = "../bus/redis/index.js";

/** The options of `sessionstream/bus/redis` that `--bus` sets. */
interface RedisBusOptions {
  readonly url: string;
  readonly prefix?: string;
  readonly partitions?: number;
  readonly onError?: (error: SessionstreamError) => void;
}

/** The shape `sessionstream/bus/redis` exports. */
interface RedisBusModule {
  createRedisEventBus(options: RedisBusOptions): EventBus & { ready?(): Promise<void> };
}

/** An open bus and a live check of its server for `/readyz`. */
export interface BusHandle {
  readonly bus: EventBus;
  /** Resolves when Redis answers now (a `PING` on a connection of its own). */
  probe(): Promise<void>;
  /** Closes the bus (idempotent) and the probe's connection. */
  close(): Promise<void>;
}

/**
 * Opens the Redis Streams bus (`sessionstream/bus/redis`, loaded on demand)
 * and connects now. The URL's `prefix` and `partitions` parameters set the
 * bus's key prefix and partition count (every node of a system must agree).
 * Rejects with `bus_unavailable` naming the URL (password redacted) and the
 * fix when Redis cannot be reached.
 */
export async function openBus(
  spec: BusSpec,
  options: { readonly onError?: (error: SessionstreamError) => void; readonly timeoutMs?: number } = {},
): Promise<BusHandle> {
  let mod: Partial<RedisBusModule>;
  try {
    mod = (await import(REDIS_BUS_MODULE)) as Partial<RedisBusModule>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND" || /Cannot find module|Failed to load url/i.test(String(err))) {
      throw new SessionstreamError(
        "invalid_argument",
        `--bus ${redactUrl(spec.url)}: this build of sessionstream has no Redis bus (sessionstream/bus/redis is missing); ` +
          "run a single node without --bus / SESSIONSTREAM_BUS, or upgrade sessionstream",
        { cause: err },
      );
    }
    throw err;
  }
  if (typeof mod.createRedisEventBus !== "function") {
    throw new SessionstreamError("invalid_argument", "sessionstream/bus/redis does not export createRedisEventBus: this build of sessionstream is incomplete");
  }
  const url = new URL(spec.url);
  const prefix = url.searchParams.get("prefix") ?? undefined;
  const partitions = url.searchParams.get("partitions");
  url.searchParams.delete("prefix");
  url.searchParams.delete("partitions");
  if (partitions !== null && !/^[1-9]\d*$/.test(partitions)) {
    throw new SessionstreamError("invalid_argument", `--bus: partitions must be a positive integer, got "${partitions}"`);
  }
  const bus = mod.createRedisEventBus({
    url: url.toString(),
    ...(prefix ? { prefix } : {}),
    ...(partitions ? { partitions: Number(partitions) } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    await withTimeout(bus.ready?.() ?? Promise.resolve(), timeoutMs, `no answer within ${timeoutMs} ms`);
  } catch (err) {
    await bus.close?.().catch(() => {});
    const message =
      err instanceof SessionstreamError
        ? err.message
        : `cannot connect to Redis at ${redactUrl(spec.url)}: ${errorMessage(err)}; check it with \`redis-cli -u <url> ping\``;
    throw new SessionstreamError(err instanceof SessionstreamError ? err.code : "bus_unavailable", `${message} (the bus URL comes from --bus or SESSIONSTREAM_BUS)`, {
      cause: err,
    });
  }
  const { Redis } = await import("ioredis");
  const pinger = new Redis(url.toString(), {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    connectionName: "sessionstream:readyz",
    retryStrategy: (times) => Math.min(100 * times, 1000),
  });
  pinger.on("error", () => {});
  return {
    bus,
    probe: async () => {
      try {
        if (pinger.status === "wait") await pinger.connect();
        await pinger.ping();
      } catch (err) {
        throw new SessionstreamError("bus_unavailable", `Redis at ${redactUrl(spec.url)} does not answer: ${errorMessage(err)}`, { cause: err });
      }
    },
    close: async () => {
      await bus.close?.().catch(() => {});
      pinger.disconnect();
    },
  };
}

/** A store that can say whether its server answers. */
interface ProbedStore {
  ping?(): Promise<unknown>;
  readonly pool?: { query(sql: string): Promise<unknown> };
}

/** Resolves when the store answers: its `ping()`, a `SELECT 1` on its pool, or a cursor read. */
export async function probeStore(store: HydrationStore): Promise<void> {
  const s = store as HydrationStore & ProbedStore;
  if (typeof s.ping === "function") await s.ping();
  else if (s.pool && typeof s.pool.query === "function") {
    try {
      await s.pool.query("SELECT 1");
    } catch (err) {
      const target = (store as { target?: unknown }).target;
      throw new SessionstreamError("store_unavailable", `${typeof target === "string" ? `${target}: ` : ""}${errorMessage(err)}`, { cause: err });
    }
  }
  else await store.cursor("sessionstream-readyz");
}

/** Rejects with `message` when `work` takes longer than `ms`. */
export async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

