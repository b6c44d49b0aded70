// Which node reads which partition. Each partition has a lease key holding
// the owner's node id with a TTL (SET NX PX); the owner renews it every tick.
// Nodes register in a sorted set scored by their own expiry (Redis time), so
// every node knows how many are alive and takes at most its fair share,
// ceil(partitions / nodes): a new node gets partitions as the others release
// their extras, and a dead node's leases expire and are taken by the
// survivors. All timing uses the Redis server's clock.
import type { Redis } from "ioredis";
import { partitionOf } from "./wire.js";

/**
 * The bus's Lua scripts as commands of its own client. ioredis sends a
 * defined command by its SHA1 (EVALSHA) and the script itself only when the
 * server does not have it yet (NOSCRIPT): the checkpoint runs on every
 * partition read, the others every lease tick.
 */
export interface BusCommands {
  /** KEYS: the node set. ARGV: node id, lease ms. */
  ssHeartbeat(nodes: string, nodeId: string, leaseMs: number): Promise<number>;
  /** numKeys lease keys, then node id, lease ms. */
  ssRenew(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<number[]>;
  /** numKeys lease and checkpoint keys, then node id, lease ms, how many. */
  ssAcquire(numKeys: number, ...keysAndArgs: Array<string | number>): Promise<Array<number | string>>;
  /** KEYS: the lease. ARGV: node id. */
  ssRelease(lease: string, nodeId: string): Promise<number>;
  /** KEYS: lease, checkpoint, stream. ARGV: node id, last id. */
  ssCheckpoint(lease: string, checkpoint: string, stream: string, nodeId: string, lastId: string): Promise<number>;
}

/** Defines {@link BusCommands} on `redis` (a client the bus created). */
export function defineBusCommands(redis: Redis): Redis & BusCommands {
  redis.defineCommand("ssHeartbeat", { numberOfKeys: 1, lua: HEARTBEAT });
  redis.defineCommand("ssRenew", { lua: RENEW });
  redis.defineCommand("ssAcquire", { lua: ACQUIRE });
  redis.defineCommand("ssRelease", { numberOfKeys: 1, lua: RELEASE });
  redis.defineCommand("ssCheckpoint", { numberOfKeys: 3, lua: CHECKPOINT });
  return redis as Redis & BusCommands;
}

/** Renews a node's leases: returns 1/0 per key (still mine / lost). */
const RENEW = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;

/** Registers the node (score = now + ttl), drops expired nodes, returns how many are alive. */
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`;

/**
 * Takes up to ARGV[3] free leases among KEYS[1..n/2] (lease keys, in the
 * node's preferred order); KEYS[n/2+i] is the checkpoint of lease i. Returns
 * {index, checkpoint} pairs of the leases taken.
 */
const ACQUIRE = `
local n = #KEYS / 2
local want = tonumber(ARGV[3])
local out = {}
for i = 1, n do
  if want <= 0 then break end
  if redis.call('SET', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) then
    want = want - 1
    out[#out + 1] = i - 1
    out[#out + 1] = redis.call('GET', KEYS[n + i]) or '0-0'
  end
end
return out`;

/** Deletes a lease if it is still mine. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Moves a partition's checkpoint forward and trims the stream up to it, only
 * while the lease is mine (fencing a stale owner): one round trip per read.
 */
const CHECKPOINT = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('XTRIM', KEYS[3], 'MINID', '~', ARGV[2])
  return 1
end
return 0`;

/** Key names of one bus prefix. */
export class BusKeys {
  constructor(readonly prefix: string) {}
  stream(p: number): string {
    return `${this.prefix}:p:${p}`;
  }
  lease(p: number): string {
    return `${this.prefix}:lease:${p}`;
  }
  checkpoint(p: number): string {
    return `${this.prefix}:cp:${p}`;
  }
  get applied(): string {
    return `${this.prefix}:applied`;
  }
  get nodes(): string {
    return `${this.prefix}:nodes`;
  }
  get config(): string {
    return `${this.prefix}:config`;
  }
}

/** An owned partition and how far this node has read it. */
export interface OwnedPartition {
  /** The last stream id handed to the hub (reading continues after it). */
  lastId: string;
  /** Set when this node gives the partition back (fair share) after its in-flight batch. */
  releasing: boolean;
}

/**
 * The lease bookkeeping of one node. `tick()` heartbeats, renews, releases
 * extras and acquires its share; the reader consults `owned`.
 */
export class PartitionLeases {
  readonly owned = new Map<number, OwnedPartition>();
  #alive = 1;

  constructor(
    private readonly redis: Redis & BusCommands,
    private readonly keys: BusKeys,
    private readonly nodeId: string,
    private readonly partitions: number,
    private readonly leaseMs: number,
  ) {}

  /** Nodes alive at the last tick (including this one). */
  get aliveNodes(): number {
    return this.#alive;
  }

  /** One round: returns true when the set of owned partitions changed. */
  async tick(): Promise<boolean> {
    let changed = false;
    this.#alive = Math.max(1, Number(await this.redis.ssHeartbeat(this.keys.nodes, this.nodeId, this.leaseMs)));
    const mine = [...this.owned.keys()];
    if (mine.length > 0) {
      const kept = await this.redis.ssRenew(mine.length, ...mine.map((p) => this.keys.lease(p)), this.nodeId, this.leaseMs);
      mine.forEach((p, i) => {
        if (kept[i] !== 1) {
          this.owned.delete(p);
          changed = true;
        }
      });
    }
    const share = Math.ceil(this.partitions / this.#alive);
    const active = [...this.owned.entries()].filter(([, o]) => !o.releasing);
    // Give back extras (highest first); the reader releases them between batches.
    for (let i = share; i < active.length; i++) active[active.length - 1 - (i - share)]![1].releasing = true;
    const want = share - Math.min(active.length, share);
    if (want > 0) {
      const order = this.#preferredOrder().filter((p) => !this.owned.has(p));
      const keys = [...order.map((p) => this.keys.lease(p)), ...order.map((p) => this.keys.checkpoint(p))];
      const got = await this.redis.ssAcquire(keys.length, ...keys, this.nodeId, this.leaseMs, want);
      for (let i = 0; i < got.length; i += 2) {
        this.owned.set(order[Number(got[i])]!, { lastId: String(got[i + 1]), releasing: false });
        changed = true;
      }
    }
    return changed;
  }

  /** Gives a partition back (after its in-flight batch). */
  async release(p: number): Promise<void> {
    this.owned.delete(p);
    await this.redis.ssRelease(this.keys.lease(p), this.nodeId);
  }

  /** Gives every lease back and leaves the node set (graceful shutdown). */
  async releaseAll(): Promise<void> {
    const mine = [...this.owned.keys()];
    this.owned.clear();
    for (const p of mine) await this.redis.ssRelease(this.keys.lease(p), this.nodeId);
    await this.redis.zrem(this.keys.nodes, this.nodeId);
  }

  /** Partitions starting at a node-specific offset, so nodes starting together spread out. */
  #preferredOrder(): number[] {
    const start = partitionOf(this.nodeId, this.partitions);
    return Array.from({ length: this.partitions }, (_, i) => (start + i) % this.partitions);
  }
}
