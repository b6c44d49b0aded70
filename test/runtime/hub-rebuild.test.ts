import { describe, expect, test } from "vitest";
import { Hub, MemoryHydrationStore, SessionstreamError, type RuntimeErrorReport, type Snapshot } from "../../src/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import { chatRegistry } from "../helpers/chat-app.js";

// A counter app: each ChatTokensDelta adds 1 (version 1) or 2 (version 2) to the entity "c".
function counterHub(store: MemoryHydrationStore | SqliteHydrationStore, step: number, slow = false) {
  const hub = new Hub({ registry: chatRegistry(), store, onError: () => {}, rebuildPageSize: 50 });
  hub.registerTimelineProjection(async (ev, _s, view) => {
    if (slow && ev.ordinal % 20n === 0n) await new Promise((r) => setTimeout(r, 1));
    const prev = Number((view.get("ChatMessage", "c")?.payload as unknown as { text?: string } | undefined)?.text ?? "0");
    return [{ kind: "ChatMessage", id: "c", payload: { messageId: "c", text: String(prev + step) } }];
  });
  return hub;
}

const textOf = (snap: Snapshot) => (snap.entities[0]?.payload as unknown as { text?: string } | undefined)?.text;

describe.each([
  ["memory", () => new MemoryHydrationStore()],
  ["sqlite", () => new SqliteHydrationStore({ path: ":memory:", registry: chatRegistry() })],
] as const)("rebuildTimeline on the %s store", (_name, makeStore) => {
  test("readers see the old or the new timeline during a rebuild, never a partial one", async () => {
    const store = makeStore();
    const v1 = counterHub(store, 1);
    for (let i = 0; i < 600; i++) await v1.publisher("s").publish("ChatTokensDelta", { chunk: "x" });
    expect(textOf(await v1.snapshot("s"))).toBe("600");

    const v2 = counterHub(store, 2, true);
    const rebuilding = v2.rebuildTimeline("s");
    const seen: string[] = [];
    let done = false;
    void rebuilding.finally(() => (done = true));
    while (!done) {
      const snap = await v2.snapshot("s");
      expect(snap.snapshotOrdinal).toBe(600n);
      seen.push(`${textOf(snap)}@${snap.epoch}`);
      await new Promise((r) => setTimeout(r, 1));
    }
    expect((await rebuilding).epoch).toBe(2n);
    expect(seen.length).toBeGreaterThan(3);
    expect(new Set(seen.filter((s) => s !== "600@1" && s !== "1200@2"))).toEqual(new Set());
    expect(textOf(await v2.snapshot("s"))).toBe("1200");
    // The hub's cached view follows the swap: the next event builds on the new timeline.
    await v2.publisher("s").publish("ChatTokensDelta", { chunk: "x" });
    expect(textOf(await v2.snapshot("s"))).toBe("1202");
  });

  test("a projection failing mid-rebuild changes nothing", async () => {
    const store = makeStore();
    const v1 = counterHub(store, 1);
    for (let i = 0; i < 10; i++) await v1.publisher("s").publish("ChatTokensDelta", { chunk: "x" });
    const broken = new Hub({ registry: chatRegistry(), store, onError: () => {} });
    broken.registerTimelineProjection((ev) => {
      if (ev.ordinal === 7n) throw new Error("projection bug");
      return [{ kind: "ChatMessage", id: "c", payload: { messageId: "c", text: "broken" } }];
    });
    const err = await broken.rebuildTimeline("s").catch((e: SessionstreamError) => e);
    expect((err as SessionstreamError).code).toBe("projection_failed");
    const snap = await broken.snapshot("s");
    expect([textOf(snap), snap.epoch]).toEqual(["10", 1n]);
  });
});

describe("store failures are SessionstreamErrors", () => {
  test("with the database closed, reads and writes reject with store_failed and reach onError", async () => {
    const store = new SqliteHydrationStore({ path: ":memory:", registry: chatRegistry() });
    const reports: RuntimeErrorReport[] = [];
    const hub = new Hub({ registry: chatRegistry(), store, onError: (r) => reports.push(r) });
    await hub.publisher("warm").publish("ChatTokensDelta", { chunk: "x" });
    await store.close();
    const failures = await Promise.all([
      hub.publisher("cold").publish("ChatTokensDelta", { chunk: "x" }).catch((e: unknown) => e),
      hub.snapshot("cold").catch((e: unknown) => e),
      hub.cursor("other").catch((e: unknown) => e),
      hub.rebuildTimeline("warm").catch((e: unknown) => e),
    ]);
    for (const err of failures) {
      expect(err).toBeInstanceOf(SessionstreamError);
      expect((err as SessionstreamError).code).toBe("store_failed");
      expect((err as SessionstreamError).message).toContain("The database connection is not open");
      expect((err as SessionstreamError).cause).toBeInstanceOf(TypeError);
    }
    expect(reports.filter((r) => r.kind === "store" && r.error.code === "store_failed").length).toBeGreaterThanOrEqual(4);
    expect(reports.map((r) => r.sessionId)).toEqual(expect.arrayContaining(["cold", "other", "warm"]));
  });
});

describe("bounded memory", () => {
  test("the session table forgets idle sessions with their state; busy sessions stay", async () => {
    let factoryRuns = 0;
    const hub = new Hub({ registry: chatRegistry(), maxCachedSessions: 5, sessionMetadata: () => ++factoryRuns });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    hub.registerCommand("ChatStartInference", async (_cmd, session) => {
      expect(session.metadata).toBeTypeOf("number");
      await held;
    });
    const busy = hub.submit("busy", "ChatStartInference", { prompt: "x" });
    for (let i = 0; i < 100; i++) await hub.publisher(`s${i}`).publish("ChatTokensDelta", { chunk: "x" });
    expect(hub.sessionCount()).toBeLessThanOrEqual(6);
    expect(hub.cachedSessionCount()).toBeLessThanOrEqual(5);
    // The session of the command in flight was kept: its metadata ran once.
    const runsBefore = factoryRuns;
    expect((await hub.session("busy")).metadata).toBe(1);
    expect(factoryRuns).toBe(runsBefore);
    release();
    await busy;
    // An evicted session comes back with its ordinals and a fresh metadata run.
    expect(await hub.publisher("s0").publish("ChatTokensDelta", { chunk: "y" })).toBe(2n);
    expect(factoryRuns).toBe(runsBefore + 1);
  });

  test("without a metadata factory the session table is bounded too, and a touched session is ready at once", async () => {
    const hub = new Hub({ registry: chatRegistry(), maxCachedSessions: 5 });
    for (let i = 0; i < 100; i++) await hub.publisher(`s${i}`).publish("ChatTokensDelta", { chunk: "x" });
    expect(hub.sessionCount()).toBeLessThanOrEqual(5);
    expect(hub.cachedSessionCount()).toBeLessThanOrEqual(5);
    expect(await hub.publisher("s0").publish("ChatTokensDelta", { chunk: "y" })).toBe(2n);
  });

  test("heap after GC stays flat from 20k to 200k touched sessions", async () => {
    const { setFlagsFromString } = await import("node:v8");
    const { runInNewContext } = await import("node:vm");
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    // A store that keeps nothing, so only the hub's own memory is measured.
    const store = {
      apply: async () => {},
      snapshot: async (sessionId: string) => ({ sessionId, snapshotOrdinal: 0n, entities: [] }),
      view: async () => {
        throw new Error("unused");
      },
      cursor: async () => 0n,
    };
    const hub = new Hub({ registry: chatRegistry(), store, sessionMetadata: () => ({ tag: "m" }) });
    const touch = async (from: number, to: number) => {
      for (let i = from; i < to; i += 500) {
        const batch = [];
        for (let j = i; j < Math.min(to, i + 500); j++) {
          batch.push(hub.publisher(`session-${j}`).publish("ChatTokensDelta", { chunk: "x" }), hub.session(`session-${j}`));
        }
        await Promise.all(batch);
      }
    };
    const heap = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    await touch(0, 20_000);
    const at20k = heap();
    await touch(20_000, 200_000);
    const at200k = heap();
    expect(hub.sessionCount()).toBeLessThanOrEqual(1000);
    // Unbounded, 180k more sessions cost ~37 MB (205 B each); bounded, the heap stays within a few MB.
    expect((at200k - at20k) / 1e6).toBeLessThan(6);
  }, 120_000);
});
