// `hub.handOver(next)`: what `dev` does on a reload. The old hub refuses
// commands and new runs; its runs keep streaming, their events applied by
// the successor (one dense ordinal sequence, one store); stops sent to the
// successor reach them; after the grace period the rest are interrupted
// through their kind's hook; recovery on the successor leaves them alone.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MemoryHydrationStore, type AppliedEvent, type HydrationStore } from "../../src/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import { runsHub, runsRegistry, statuses, tokens } from "../helpers/runs-app.js";
import { until } from "../helpers/until.js";

const dir = mkdtempSync(join(tmpdir(), "ss-handover-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const names = (events: readonly AppliedEvent[]) => events.map((a) => `${a.event.ordinal}:${a.event.name}:${(a.event.payload as unknown as { chunk: string }).chunk}`);

/** Two generations of the app: on one shared store, or on two connections to one SQLite file (as `dev` does). */
const variants: Array<[string, () => [HydrationStore, HydrationStore]]> = [
  ["memory", () => { const s = new MemoryHydrationStore(); return [s, s]; }],
  [
    "sqlite (a connection per generation)",
    () => {
      const path = join(dir, `${Math.random().toString(36).slice(2)}.sqlite`);
      return [new SqliteHydrationStore({ path, registry: runsRegistry() }), new SqliteHydrationStore({ path, registry: runsRegistry() })];
    },
  ],
];

describe.each(variants)("handOver on %s", (_name, stores) => {
  test("a run in flight streams to completion through the successor: dense ordinals, one terminal event, old hub refuses commands", async () => {
    const [s1, s2] = stores();
    const first = runsHub({ store: s1 });
    const run = await first.startRun("h", { kind: "answer", data: { messageId: "m" } }, tokens("m", 12, 15));
    await until(async () => (await first.cursor("h")) >= 3n, "a few tokens");
    const second = runsHub({ store: s2 });
    const seen: AppliedEvent[] = [];
    second.observe((a) => seen.push(a));
    const { runs, drained } = await first.handOver(second, { runGraceMs: 10_000 });
    expect(runs).toBe(1);
    await expect(first.startRun("h", { kind: "answer" }, tokens("x", 1, 1))).rejects.toMatchObject({ code: "closed" });

    expect(await run.done).toBe("finished");
    await drained;
    const log = await (s2 as SqliteHydrationStore | MemoryHydrationStore).readEvents("h", 0n, 100);
    expect(log.map((e) => e.ordinal)).toEqual(log.map((_, i) => BigInt(i + 1)));
    expect(log.filter((e) => e.name === "Token")).toHaveLength(12);
    expect(log.filter((e) => e.name === "Ended").map((e) => (e.payload as unknown as { chunk: string }).chunk)).toEqual(["finished"]);
    // What followed the hand-over was applied by the successor (its observers, its fanouts).
    expect(seen.length).toBeGreaterThan(0);
    expect(names(seen).at(-1)).toBe(`${log.length}:Ended:finished`);
    expect(await statuses(second, "h")).toEqual({ m: "finished" });
    expect((await second.run(run.runId))?.state).toBe("finished");
    await second.close();
    if (s1 !== s2) await s1.close?.();
    await s2.close?.();
  });

  test("a stop sent to the successor reaches the handed-over run at once; recovery there leaves it alone", async () => {
    const [s1, s2] = stores();
    const first = runsHub({ store: s1 });
    const run = await first.startRun("h", { kind: "answer", data: { messageId: "m" } }, tokens("m", Infinity, 15));
    await until(async () => (await first.cursor("h")) >= 2n, "a token");
    const second = runsHub({ store: s2 });
    await first.handOver(second, { runGraceMs: 60_000 });
    expect(await second.recoverRuns()).toEqual([]);
    expect((await second.run(run.runId))?.state).toBe("running");
    await until(async () => (await second.cursor("h")) >= 4n, "tokens applied by the successor");

    const answer = await second.stopRun(run.runId);
    expect(answer).toEqual({ runId: run.runId, stopped: true, state: "stopped" });
    expect(await run.done).toBe("stopped");
    expect(await statuses(second, "h")).toEqual({ m: "stopped" });
    expect(await second.stopRun(run.runId)).toEqual({ runId: run.runId, stopped: false, state: "stopped" });
    await second.close();
    if (s1 !== s2) await s1.close?.();
    await s2.close?.();
  });

  test("after the grace period the runs still going are interrupted through their hook; closing the successor ends adopted runs too", async () => {
    const [s1, s2] = stores();
    const first = runsHub({ store: s1 });
    const slow = await first.startRun("g", { kind: "answer", data: { messageId: "slow" } }, tokens("slow", Infinity, 10));
    await until(async () => (await first.cursor("g")) >= 1n, "a token");
    const second = runsHub({ store: s2 });
    const { drained } = await first.handOver(second, { runGraceMs: 150 });
    expect(await slow.done).toBe("interrupted");
    await drained;
    expect(await statuses(second, "g")).toEqual({ slow: "interrupted" });

    // A generation handed over again while a run is adopted: closing the newest ends it.
    const run = await second.startRun("g", { kind: "answer", data: { messageId: "next" } }, tokens("next", Infinity, 10));
    const third = runsHub({ store: s2 });
    await second.handOver(third, { runGraceMs: 60_000 });
    await until(async () => (await third.cursor("g")) > (await second.cursor("g")), "the third generation to apply");
    await third.close({ runGraceMs: 0 });
    expect(await run.done).toBe("interrupted");
    const snap = await statuses(third, "g");
    expect(snap).toEqual({ slow: "interrupted", next: "interrupted" });
    if (s1 !== s2) await s1.close?.();
    await s2.close?.();
  });
});
