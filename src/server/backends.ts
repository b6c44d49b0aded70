// The store and bus an app runs on, from `--store` / `--bus` (or
// SESSIONSTREAM_STORE / SESSIONSTREAM_BUS): parsed, described with passwords
// redacted, opened with a clear error when unreachable, and probed for /readyz.
import { resolve } from "node:path";
import { SessionstreamError } from "../runtime/errors.js";
import type { EventBus } from "../runtime/event-bus.js";
import type { HydrationStore } from "../store/hydration-store.js";
import { MemoryHydrationStore } from "../store/memory/memory-store.js";
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
    };

/** Which event bus an app runs on. */
export type BusSpec = { readonly kind: "redis"; readonly url: string };

/** How `--store` is spelled. */
export const STORE_SYNTAX = "sqlite, sqlite:<file>, memory or a postgres://user:pass@host:5432/db URL";

/**
 * Parses a `--store` value: `memory`, `sqlite` (at `defaultSqlitePath`),
 * `sqlite:<file>` (relative to `cwd`), or a `postgres://` / `postgresql://`
 * URL whose optional `schema` parameter names the PostgreSQL schema (else a
 * `search_path` in `options=-csearch_path=<schema>`, else `public`).
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
    url.searchParams.delete("schema");
    return { kind: "postgres", url: url.toString(), ...(schema ? { schema } : {}) };
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
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = "***";
    for (const key of [...url.searchParams.keys()]) if (/pass/i.test(key)) url.searchParams.set(key, "***");
    return url.toString();
  } catch {
    return value.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
  }
}

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
  const store = new PostgresHydrationStore({ connectionString: spec.url, ...(spec.schema ? { schema: spec.schema } : {}) });
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

/** The shape `sessionstream/bus/redis` is expected to export. */
interface RedisBusModule {
  createRedisEventBus(options: { readonly url: string }): EventBus | Promise<EventBus>;
}

/**
 * Opens the Redis Streams bus (`sessionstream/bus/redis`, loaded on demand)
 * and checks that Redis answers within `timeoutMs`. Rejects with
 * `bus_unavailable`-style messages naming the URL (password redacted) and the fix.
 */
export async function openBus(spec: BusSpec, timeoutMs = 5000): Promise<EventBus> {
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
  let bus: EventBus | undefined;
  try {
    bus = await mod.createRedisEventBus({ url: spec.url });
    await withTimeout(probeBus(bus), timeoutMs, `no answer within ${timeoutMs} ms`);
    return bus;
  } catch (err) {
    await bus?.close?.().catch(() => {});
    throw new SessionstreamError(
      "bus_unavailable",
      `cannot connect to Redis at ${redactUrl(spec.url)}: ${messageOf(err)}. ` +
        "Check that Redis is running and reachable there (`redis-cli -u <url> ping`), or pass the right URL with --bus or SESSIONSTREAM_BUS.",
      { cause: err },
    );
  }
}

/** A bus that can say whether its server answers (the Redis bus). */
interface ProbedBus {
  ping?(): Promise<unknown>;
  ready?(): Promise<unknown>;
}

/** Resolves when the bus's server answers; a bus without a probe (in-process) is always reachable. */
export async function probeBus(bus: EventBus): Promise<void> {
  const b = bus as EventBus & ProbedBus;
  if (typeof b.ping === "function") await b.ping();
  else if (typeof b.ready === "function") await b.ready();
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
      throw new SessionstreamError("store_unavailable", `${typeof target === "string" ? `${target}: ` : ""}${messageOf(err)}`, { cause: err });
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

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(messageOf).join("; ");
  return err instanceof Error ? err.message || String((err as { code?: unknown }).code ?? err.name) : String(err);
}
