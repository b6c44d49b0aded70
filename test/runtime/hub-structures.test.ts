import { describe, expect, test } from "vitest";
import { EntityChanges } from "../../src/runtime/entity-changes.js";
import { ListenerList } from "../../src/runtime/listener-list.js";
import { LruMap } from "../../src/runtime/lru-map.js";
import { KeyedSerialQueue } from "../../src/runtime/serial-queue.js";
import { TimelineState, type TimelineEntity } from "../../src/runtime/timeline.js";

describe("LruMap", () => {
  test("eviction order: oldest first; an entry used since it was last passed gets a second chance at the back", () => {
    const lru = new LruMap<string, number>();
    for (const [k, v] of [["a", 1], ["b", 2], ["c", 3], ["d", 4]] as const) lru.set(k, v);
    expect(lru.touch("a")).toBe(1);
    expect(lru.get("b")).toBe(2); // get does not mark it used
    lru.set("c", 30); // set of an existing key marks it used
    expect([...lru.evictionOrder()]).toEqual(["b", "d", "a", "c"]);
    // That pass cleared the flags and moved the used entries to the back.
    expect([...lru.keys()]).toEqual(["b", "d", "a", "c"]);
    expect([...lru.values()]).toEqual([2, 4, 1, 30]);
    lru.touch("b");
    expect([...lru.evictionOrder()]).toEqual(["d", "a", "c", "b"]);
    expect(lru.touch("missing")).toBeUndefined();
  });

  test("an eviction loop deletes what it is offered and skips what it must keep, and ends", () => {
    const lru = new LruMap<string, number>();
    for (const k of ["a", "b", "c", "d", "e"]) lru.set(k, 0);
    lru.touch("a");
    const keep = new Set(["b"]);
    const evicted: string[] = [];
    for (const k of lru.evictionOrder()) {
      if (lru.size <= 2) break;
      if (keep.has(k)) continue;
      lru.delete(k);
      evicted.push(k);
    }
    expect(evicted).toEqual(["c", "d", "e"]);
    expect([...lru.keys()]).toEqual(["b", "a"]);
    // Everything kept and used: every key is still offered once, and the loop ends.
    lru.touch("a");
    lru.touch("b");
    let offered = 0;
    for (const _ of lru.evictionOrder()) offered++;
    expect(offered).toBe(2);
    expect(lru.delete("b")).toBe(true);
    expect(lru.delete("b")).toBe(false);
    expect(lru.has("a")).toBe(true);
    expect(lru.size).toBe(1);
  });
});

describe("KeyedSerialQueue.runReleasing", () => {
  test("the key stays busy until the task releases it; the next task waits for the previous one", async () => {
    const queue = new KeyedSerialQueue();
    const order: string[] = [];
    let finish!: () => void;
    const first = queue.runReleasing(
      "k",
      async (turn, name) => {
        try {
          await new Promise<void>((r) => (finish = r));
          order.push(name);
        } finally {
          turn.release();
        }
      },
      "first",
    );
    const second = queue.run("k", async () => void order.push("second"));
    expect(queue.busy("k")).toBe(true);
    finish();
    await Promise.all([first, second]);
    expect(order).toEqual(["first", "second"]);
    expect(queue.busy("k")).toBe(false);
  });

  test("a task that fails before its first await leaves the key idle", async () => {
    const queue = new KeyedSerialQueue();
    const failed = queue.runReleasing(
      "k",
      async (turn) => {
        try {
          throw new Error("early");
        } finally {
          turn.release();
        }
      },
      undefined,
    );
    expect(queue.busy("k")).toBe(false);
    await expect(failed).rejects.toThrow("early");
    await queue.idle();
  });
});

describe("EntityChanges", () => {
  const entity = (kind: string, id: string, n: bigint) => ({ kind, id, createdOrdinal: n, lastEventOrdinal: n, tombstone: false }) as unknown as TimelineEntity;

  test("a later change of one (kind, id) replaces the earlier in place, past the scan limit too", () => {
    const changes = new EntityChanges();
    for (let i = 0; i < 20; i++) changes.put(changes.indexOf("K", `e${i % 12}`), entity("K", `e${i % 12}`, BigInt(i)));
    changes.put(changes.indexOf("Other", "e1"), entity("Other", "e1", 99n));
    expect(changes.list.map((e) => `${e.kind}/${e.id}=${e.createdOrdinal}`)).toEqual([
      ...Array.from({ length: 12 }, (_, i) => `K/e${i}=${i < 8 ? i + 12 : i}`),
      "Other/e1=99",
    ]);
  });
});

describe("TimelineState", () => {
  const entity = (kind: string, id: string, n: bigint, tombstone = false) =>
    ({ kind, id, createdOrdinal: 1n, lastEventOrdinal: n, tombstone, payload: { n } }) as unknown as TimelineEntity;

  // get() remembers the entity it last read or wrote, and set() the map of the kind it last used:
  // every way the timeline changes must keep those current.
  test("reads see every write: updates, tombstones, other kinds with the same id, clear and replaceWith", () => {
    const timeline = new TimelineState("s");
    timeline.apply(1n, [entity("A", "x", 1n)]);
    expect(timeline.get("A", "x")?.lastEventOrdinal).toBe(1n);
    timeline.apply(2n, [entity("A", "x", 2n)]);
    expect(timeline.get("A", "x")?.lastEventOrdinal).toBe(2n);
    expect(timeline.get("B", "x")).toBeUndefined();
    timeline.apply(3n, [entity("B", "x", 3n)]);
    expect(timeline.get("A", "x")?.lastEventOrdinal).toBe(2n);
    expect(timeline.get("B", "x")?.lastEventOrdinal).toBe(3n);
    timeline.apply(4n, [entity("A", "y", 4n), entity("A", "x", 4n, true)]);
    expect(timeline.get("A", "x")).toBeUndefined();
    expect(timeline.get("A", "y")?.lastEventOrdinal).toBe(4n);
    expect(timeline.list("A").map((e) => e.id)).toEqual(["y"]);
    expect(timeline.get("B", "x")?.lastEventOrdinal).toBe(3n);
    timeline.clear();
    expect(timeline.get("B", "x")).toBeUndefined();
    expect(timeline.get("A", "y")).toBeUndefined();
    timeline.apply(5n, [entity("A", "y", 5n)]);
    expect(timeline.get("A", "y")?.lastEventOrdinal).toBe(5n);
    timeline.replaceWith(new TimelineState("s", 6n, [entity("A", "z", 6n)]));
    expect(timeline.get("A", "y")).toBeUndefined();
    expect(timeline.get("A", "z")?.lastEventOrdinal).toBe(6n);
    expect(timeline.entries().map((e) => `${e.kind}/${e.id}`)).toEqual(["A/z"]);
  });
});

describe("ListenerList", () => {
  test("adds once, in order; the remover removes; a list being iterated is not changed under it", () => {
    const list = new ListenerList<string>();
    const removeA = list.add("a");
    list.add("b");
    list.add("a");
    expect(list.items).toEqual(["a", "b"]);
    const iterating = list.items;
    list.add("c");
    removeA();
    expect(iterating).toEqual(["a", "b"]);
    expect(list.items).toEqual(["b", "c"]);
    expect(list.delete("a")).toBe(false);
    expect(list.delete("c")).toBe(true);
    expect(list.size).toBe(1);
  });
});
