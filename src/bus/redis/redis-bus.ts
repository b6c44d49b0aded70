import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { Redis } from "ioredis";
import { SessionstreamError } from "../../runtime/errors.js";
import type { ClusterEventBus, ClusterHubLink, EventConsumer, PendingEvent } from "../../runtime/event-bus.js";
import type { SchemaRegistry } from "../../runtime/registry.js";
import { BusKeys, defineBusCommands, PartitionLeases, type BusCommands } from "./partition-leases.js";
import { busError, redactRedisUrl, unreachableAtStart } from "./redis-errors.js";
import { decodeApplied, decodeEntry, encodeEntry, encodeNotice, entryHeader, entryRecord, noticeHeader, partitionOf, type AppliedNotice } from "./wire.js";

/** Options of {@link RedisEventBus} / `createRedisEventBus`. Every node of one system must use the same `prefix` and `partitions`. */
export interface RedisEventBusOptions {
  /** `redis://[:password@]host:port[/db]` (or `rediss://` for TLS). Default `redis://127.0.0.1:6379`. */
  readonly url?: string;
  /** Prefix of every key the bus uses, so several systems (or test runs) share one Redis. Default `"sessionstream"`. */
  readonly prefix?: string;
  /** Partitions (streams) sessions hash to; the unit of ownership and of parallelism across nodes. Default 16. */
  readonly partitions?: number;
  /** Lease time of a partition: a node that stops renewing (crash, partition) loses its partitions after this. Default 5000 ms. */
  readonly leaseMs?: number;
  /** How often a node renews its leases, heartbeats and takes its share of free partitions. Default `leaseMs / 5`. */
  readonly renewEveryMs?: number;
  /** Longest a reader blocks in `XREAD` before it looks at its leases again. Default 1000 ms. */
  readonly readBlockMs?: number;
  /** Entries a reader takes per read, per partition. Default 100. */
  readonly readBatch?: number;
  /** A publish that no node has applied after this rejects with `bus_unavailable`. Default 30000 ms. */
  readonly publishTimeoutMs?: number;
  /** Approximate length the applied-notice stream is trimmed to (`XADD MAXLEN ~`). Default 100000. */
  readonly appliedMaxLen?: number;
  /** Milliseconds to wait for a connection to Redis. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** This node's id in leases and notices. Default `<hostname>:<pid>:<random>`. */
  readonly nodeId?: string;
  /**
   * Hears background failures (lost connection, a failed lease round, a
   * notice that does not decode), once per failure streak. Default: `console.error`.
   */
  readonly onError?: (error: SessionstreamError) => void;
}

interface Waiter {
  resolve(ordinal: bigint): void;
  reject(error: SessionstreamError): void;
  timer: NodeJS.Timeout;
}

type XReadReply = Array<[string, Array<[string, string[]]>]> | null;

/** `XREAD` with its argument list (the typed overloads do not take a spread of several streams). */
function xread(redis: Redis, args: Array<string | number>): Promise<XReadReply> {
  return (redis.xread as unknown as (...a: Array<string | number>) => Promise<XReadReply>).apply(redis, args);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The Redis Streams event bus: several processes ("nodes") on one Redis and
 * one shared store (`PostgresHydrationStore`) behave as one hub. See the
 * README section "Running several nodes".
 *
 * - `publish` appends the event (protobuf binary, with a random event id) to
 *   the stream of its session's partition and resolves when the node that
 *   owns the partition has applied it durably (its "applied" notice).
 * - Each partition is read by one node at a time, under a lease renewed every
 *   `renewEveryMs`; that node hands the entries to its hub in stream order,
 *   and the hub assigns ordinals from the store's cursor. Nodes share the
 *   partitions fairly; a node that stops renewing loses them after `leaseMs`.
 * - After each entry the owner appends a notice (ordinal, UI events,
 *   entities) to the applied stream, which every node tails to resolve its
 *   publishes and feed its own fanouts (websocket subscribers) and observers.
 * - The owner records how far it got (a checkpoint per partition, fenced by
 *   its lease); a new owner re-reads from there, and the store's event ids
 *   make those redeliveries no-ops.
 *
 * Used through `new Hub({ bus, store })`, which attaches itself. Call
 * `await bus.ready()` at start to fail fast when Redis is unreachable.
 */
export class RedisEventBus implements ClusterEventBus {
  /** This node's id. */
  readonly nodeId: string;
  /** Where the bus connects, password redacted. */
  readonly target: string;
  readonly prefix: string;
  readonly partitions: number;
  readonly leaseMs: number;
  readonly renewEveryMs: number;

  readonly #keys: BusKeys;
  readonly #cmd: Redis & BusCommands;
  readonly #tail: Redis;
  readonly #reader: Redis;
  readonly #leases: PartitionLeases;
  readonly #readBlockMs: number;
  readonly #readBatch: number;
  readonly #publishTimeoutMs: number;
  readonly #appliedMaxLen: number;
  readonly #onError: (error: SessionstreamError) => void;
  readonly #pending = new Map<string, Waiter>();
  readonly #lastErrors = new Map<Redis, unknown>();
  readonly #failing = new Set<string>();
  #link: ClusterHubLink | undefined;
  #ready: Promise<void> | undefined;
  #isReady = false;
  #closed = false;
  #started = false;
  #tailFrom = "0-0";
  #readerId: number | undefined;
  #wake: (() => void) | undefined;
  #loops: Promise<void>[] = [];

  constructor(options: RedisEventBusOptions = {}) {
    const url = options.url ?? "redis://127.0.0.1:6379";
    this.target = redactRedisUrl(url);
    this.prefix = options.prefix ?? "sessionstream";
    this.partitions = positiveInt("partitions", options.partitions ?? 16);
    this.leaseMs = positiveInt("leaseMs", options.leaseMs ?? 5000);
    this.renewEveryMs = positiveInt("renewEveryMs", options.renewEveryMs ?? Math.max(1, Math.floor(this.leaseMs / 5)));
    if (this.renewEveryMs >= this.leaseMs) {
      throw new SessionstreamError("invalid_argument", `renewEveryMs (${this.renewEveryMs}) must be shorter than leaseMs (${this.leaseMs})`);
    }
    this.#readBlockMs = positiveInt("readBlockMs", options.readBlockMs ?? 1000);
    this.#readBatch = positiveInt("readBatch", options.readBatch ?? 100);
    this.#publishTimeoutMs = positiveInt("publishTimeoutMs", options.publishTimeoutMs ?? 30_000);
    this.#appliedMaxLen = positiveInt("appliedMaxLen", options.appliedMaxLen ?? 100_000);
    this.nodeId = options.nodeId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#onError = options.onError ?? ((e) => console.error(`[sessionstream] bus error (${e.code}): ${e.message}`));
    this.#keys = new BusKeys(this.prefix);
    const connectTimeout = options.connectTimeoutMs ?? 5000;
    const client = (role: string, blocking: boolean) => {
      const redis = new Redis(url, {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout,
        // A server that vanished without closing the socket must not hang a loop (or close()) for ever.
        commandTimeout: blocking ? this.#readBlockMs + connectTimeout : connectTimeout,
        connectionName: `sessionstream:${role}:${this.nodeId}`.replace(/\s/g, "_"),
        // Reconnect for ever, quickly: the bus recovers by itself when Redis is back.
        retryStrategy: (times) => Math.min(50 * times, 500),
      });
      redis.on("error", (err: unknown) => this.#lastErrors.set(redis, err));
      return redis;
    };
    this.#cmd = defineBusCommands(client("cmd", false));
    this.#tail = client("tail", true);
    this.#reader = client("reader", true);
    this.#reader.on("ready", () => {
      this.#reader.client("ID").then(
        (id) => (this.#readerId = Number(id)),
        () => {},
      );
    });
    this.#leases = new PartitionLeases(this.#cmd, this.#keys, this.nodeId, this.partitions, this.leaseMs);
  }

  /**
   * Connects and checks that this node's `partitions` matches the one stored
   * under the prefix (the first node records it). Every other method waits
   * for it; call it at start to fail fast. Rejects with `bus_unavailable`
   * naming the URL and the fix when Redis cannot be reached; a later call
   * tries again.
   */
  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    this.#ready ??= this.#open().then(
      () => {
        this.#isReady = true;
      },
      (err: unknown) => {
        this.#ready = undefined;
        throw err;
      },
    );
    return this.#ready;
  }

  async #open(): Promise<void> {
    const clients = [this.#cmd, this.#tail, this.#reader];
    try {
      await Promise.all(clients.map((c) => (c.status === "wait" || c.status === "end" ? c.connect() : undefined)));
    } catch (err) {
      for (const c of clients) c.disconnect();
      const cause = clients.map((c) => this.#lastErrors.get(c)).find((e) => e !== undefined) ?? err;
      throw unreachableAtStart(cause, this.target);
    }
    try {
      await this.#cmd.set(this.#keys.config, String(this.partitions), "NX");
      const stored = Number(await this.#cmd.get(this.#keys.config));
      if (stored !== this.partitions) {
        throw new SessionstreamError(
          "invalid_argument",
          `the bus at ${this.target} with prefix "${this.prefix}" uses ${stored} partitions, but this node was configured with ${this.partitions}: every node must use the same number`,
        );
      }
      const last = (await this.#cmd.xrevrange(this.#keys.applied, "+", "-", "COUNT", 1)) as Array<[string, string[]]>;
      this.#tailFrom = last[0]?.[0] ?? "0-0";
    } catch (err) {
      for (const c of clients) c.disconnect();
      throw busError(err, "start", this.target);
    }
  }

  /** Installs the hub (called by `new Hub({ bus })`) and starts the lease, reader and notice loops. */
  attachHub(link: ClusterHubLink): () => void {
    if (this.#link) throw new SessionstreamError("invalid_argument", "this event bus is already attached to a hub");
    this.#link = link;
    this.#start();
    return () => {
      if (this.#link === link) this.#link = undefined;
    };
  }

  /**
   * Tells every node to stop run `runId` now: a "stop" notice on the applied
   * stream every node already tails, so it costs no extra connection. The
   * node running it ends it; the others ignore it.
   */
  async signalRunStop(runId: string): Promise<void> {
    if (this.#closed) throw closedError();
    try {
      await this.#cmd.xadd(this.#keys.applied, "MAXLEN", "~", this.#appliedMaxLen, "*", "k", "stop", "d", this.nodeId, "r", runId);
    } catch (err) {
      throw busError(err, `stop of run ${runId}`, this.target);
    }
  }

  /** Not supported: the Redis bus needs the hub's cluster link (`new Hub({ bus })` attaches it). */
  consume(_consumer: EventConsumer): () => void {
    throw new SessionstreamError("invalid_argument", "RedisEventBus is attached by a Hub (new Hub({ bus })), not through consume()");
  }

  /** The partition a session's events go through. */
  partitionOf(sessionId: string): number {
    return partitionOf(sessionId, this.partitions);
  }

  /** Partitions this node reads now (for tests, stats and `/readyz`). */
  ownedPartitions(): number[] {
    return [...this.#leases.owned.keys()].sort((a, b) => a - b);
  }

  /**
   * Appends the event to its partition's stream and resolves with its
   * ordinal once the owning node has applied it durably. Rejects with
   * `bus_unavailable` when Redis cannot be reached (nothing was appended) or
   * no node applied the event within `publishTimeoutMs` (it may still be
   * applied later), and with the applying hub's error (e.g.
   * `projection_failed`, `store_unavailable`) when applying failed.
   */
  async publish(event: PendingEvent): Promise<bigint> {
    if (this.#closed) throw closedError();
    const registry = this.#registry();
    if (!this.#isReady) await this.ready();
    const eventId = event.eventId ?? randomUUID();
    const fields = encodeEntry(registry, event, eventId, this.nodeId);
    const result = new Promise<bigint>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(eventId);
        reject(
          new SessionstreamError(
            "bus_unavailable",
            `no node applied event "${event.name}" of session "${event.sessionId}" within publishTimeoutMs ${this.#publishTimeoutMs} (Redis at ${this.target}); it may still be applied`,
          ),
        );
      }, this.#publishTimeoutMs);
      this.#pending.set(eventId, { resolve, reject, timer });
    });
    try {
      await this.#cmd.xadd(this.#keys.stream(this.partitionOf(event.sessionId)), "*", ...fields);
    } catch (err) {
      this.#settle(eventId, busError(err, `publish of event "${event.name}"`, this.target));
      result.catch(() => {});
    }
    return result;
  }

  /**
   * Stops reading, gives the partitions back (another node takes them at
   * once), rejects publishes still waiting with `closed` and closes the
   * connections. `hub.close()` calls it after its queued events are applied.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#kickReader();
    // Ends blocked reads now; an in-flight batch still posts its notices and checkpoint on the command connection.
    this.#tail.disconnect();
    this.#reader.disconnect();
    await Promise.allSettled(this.#loops);
    if (this.#isReady) await this.#leases.releaseAll().catch(() => {});
    for (const eventId of [...this.#pending.keys()]) this.#settle(eventId, closedError());
    for (const c of [this.#cmd, this.#tail, this.#reader]) c.disconnect();
  }

  #registry(): SchemaRegistry<any> {
    if (!this.#link) throw new SessionstreamError("invalid_argument", "RedisEventBus is not attached to a hub: pass it as `new Hub({ bus })`");
    return this.#link.registry;
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#loops = [this.#leaseLoop(), this.#tailLoop(), this.#readLoop()];
  }

  /** Runs `step` until the bus closes; failures are reported once per streak and retried after a pause. */
  async #loop(name: string, step: () => Promise<void>, pauseMs: number): Promise<void> {
    while (!this.#closed) {
      try {
        if (!this.#isReady) await this.ready();
        await step();
        if (this.#failing.delete(name)) this.#onError(new SessionstreamError("bus_unavailable", `${name} recovered (Redis at ${this.target})`));
      } catch (err) {
        if (this.#closed) break;
        if (!this.#failing.has(name)) {
          this.#failing.add(name);
          this.#report(busError(err, name, this.target));
        }
        await sleep(pauseMs);
      }
    }
  }

  #leaseLoop(): Promise<void> {
    return this.#loop(
      "lease renewal",
      async () => {
        if (await this.#leases.tick()) this.#kickReader();
        await sleep(this.renewEveryMs);
      },
      this.renewEveryMs,
    );
  }

  #tailLoop(): Promise<void> {
    let lastId: string | undefined;
    return this.#loop(
      "applied-notice tail",
      async () => {
        lastId ??= this.#tailFrom;
        const reply = await xread(this.#tail, ["COUNT", 1000, "BLOCK", this.#readBlockMs, "STREAMS", this.#keys.applied, lastId]);
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            this.#onNotice(fields);
          }
        }
      },
      200,
    );
  }

  #readLoop(): Promise<void> {
    return this.#loop(
      "partition reader",
      async () => {
        for (const [p, o] of this.#leases.owned) if (o.releasing) await this.#leases.release(p);
        const owned = [...this.#leases.owned.entries()];
        if (owned.length === 0 || !this.#link) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.#readBlockMs);
            this.#wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.#wake = undefined;
          return;
        }
        const args = ["COUNT", this.#readBatch, "BLOCK", this.#readBlockMs, "STREAMS", ...owned.map(([p]) => this.#keys.stream(p)), ...owned.map(([, o]) => o.lastId)];
        const reply = await xread(this.#reader, args);
        if (reply) await this.#applyBatch(reply);
      },
      200,
    );
  }

  /** Wakes the reader so it sees a change of leases (or the close) now rather than after its block. */
  #kickReader(): void {
    this.#wake?.();
    if (this.#readerId !== undefined && this.#cmd.status === "ready") this.#cmd.client("UNBLOCK", this.#readerId).catch(() => {});
  }

  /** Hands a read to the hub: entries of one session in stream order (the hub's per-session queue keeps it), sessions in parallel. */
  async #applyBatch(reply: NonNullable<XReadReply>): Promise<void> {
    const partitions = reply.map(([key, entries]) => {
      const p = Number(key.slice(key.lastIndexOf(":") + 1));
      const handled = entries.map(([, fields]) => this.#handle(fields));
      return { p, lastId: entries[entries.length - 1]![0], handled };
    });
    for (const { p, lastId, handled } of partitions) {
      const all = await Promise.all(handled);
      const owned = this.#leases.owned.get(p);
      // Entries left unhandled (the hub is closing) are re-read by the next owner.
      if (!owned || all.includes(false)) continue;
      owned.lastId = lastId;
      const mine = await this.#cmd.ssCheckpoint(this.#keys.lease(p), this.#keys.checkpoint(p), this.#keys.stream(p), this.nodeId, lastId);
      if (mine !== 1) this.#leases.owned.delete(p);
    }
  }

  /** Applies one entry through the hub and posts its notice. False when it was left for another node. */
  async #handle(fields: string[]): Promise<boolean> {
    const link = this.#link;
    if (!link || this.#closed) return false;
    const entry = entryRecord(fields);
    const { sessionId, eventId, origin } = entryHeader(entry);
    let notice: AppliedNotice;
    try {
      const { event } = decodeEntry(link.registry, entry);
      const result = await link.apply(event);
      notice = { ok: true, eventId, node: this.nodeId, duplicate: result.duplicate, applied: result.applied };
      if (origin === this.nodeId) this.#settle(eventId, result.applied.event.ordinal);
    } catch (err) {
      const error = SessionstreamError.from(err);
      // A hub that is closing leaves the entry to the partition's next owner.
      if (error.code === "closed") return false;
      notice = { ok: false, eventId, node: this.nodeId, sessionId, error };
      if (origin === this.nodeId) this.#settle(eventId, error);
    }
    try {
      await this.#cmd.xadd(this.#keys.applied, "MAXLEN", "~", this.#appliedMaxLen, "*", ...encodeNotice(link.registry, notice, { type: entry["t"]!, bytes: entry["p"]! }));
    } catch (err) {
      // The event is applied; only other nodes' live view of it is lost.
      this.#report(busError(err, `applied notice of event ${eventId}`, this.target));
    }
    return true;
  }

  #onNotice(fields: string[]): void {
    const f = noticeHeader(fields);
    if (f["d"] === this.nodeId) return;
    const kind = f["k"];
    if (kind === "stop") {
      this.#link?.stopLocalRun(f["r"] ?? "");
      return;
    }
    const eventId = f["e"] ?? "";
    if (kind === "err") {
      this.#settle(eventId, new SessionstreamError((f["c"] ?? "internal") as SessionstreamError["code"], f["m"] ?? "applying the event failed"));
      return;
    }
    const ordinal = BigInt(f["o"] ?? 0);
    this.#settle(eventId, ordinal);
    if (!this.#link) return;
    try {
      if (kind === "dup") this.#link.missed(f["s"] ?? "", ordinal);
      else if (kind === "ok") this.#link.deliverRemote(decodeApplied(this.#link.registry, f));
    } catch (err) {
      this.#report(SessionstreamError.from(err));
    }
  }

  #settle(eventId: string, outcome: bigint | SessionstreamError): void {
    const waiter = this.#pending.get(eventId);
    if (!waiter) return;
    this.#pending.delete(eventId);
    clearTimeout(waiter.timer);
    if (typeof outcome === "bigint") waiter.resolve(outcome);
    else waiter.reject(outcome);
  }

  #report(error: SessionstreamError): void {
    try {
      this.#onError(error);
    } catch {
      // The observer must never take the bus down.
    }
  }
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new SessionstreamError("invalid_argument", `${name} must be a positive integer, got ${value}`);
  return value;
}

function closedError(): SessionstreamError {
  return new SessionstreamError("closed", "the Redis event bus is closed");
}
