// Scenario 1: hub throughput with the memory store, against the same
// projection functions and Map updates in a bare synchronous loop.
import { core } from "../lib/pkg.js";
import { bareApply, bareSession } from "../lib/bare-loop.js";
import { benchRegistry, chatEvents, registerBenchProjections, sessionIds, type BenchSchema } from "../lib/chat-bench.js";
import { interleave, timeMs } from "../lib/measure.js";
import { makeRow } from "../lib/row.js";
import type { Row, Scenario } from "../lib/types.js";

export const scenario: Scenario = {
  name: "hub-memory",
  title: "Hub throughput, memory store",
  description:
    "ours: hub.publisher(s).publish for each event (UI + timeline projection, MemoryHydrationStore, a counting fanout); " +
    "sessions publish concurrently, one event per session per round, each session awaiting its previous event. " +
    "baseline: the same projection functions and Map updates (log, entity upsert, cursor) in a bare synchronous loop.",
  async run(ctx) {
    const total = ctx.quick ? 5_000 : 50_000;
    const sizes = [1, 100, 1000];
    const rows: Row[] = [];
    for (const sessions of sizes) {
      const perSession = Math.max(10, Math.floor(total / sessions));
      const events = chatEvents(perSession);
      const ids = sessionIds(sessions);
      const count = perSession * sessions;
      const stats = await interleave(ctx, `${sessions} sessions x ${perSession} events`, {
        ours: async () => {
          const registry = benchRegistry();
          const hub = new core.Hub<BenchSchema>({ registry, store: new core.MemoryHydrationStore() });
          let delivered = 0;
          hub.attachFanout({ publishUI: (_s, _o, ui) => void (delivered += ui.length) });
          registerBenchProjections(hub);
          const pubs = ids.map((id) => hub.publisher(id));
          const ms = await timeMs(async () => {
            if (pubs.length === 1) {
              const pub = pubs[0]!;
              for (const ev of events) await pub.publish(ev.name, ev.payload as never);
            } else {
              for (const ev of events) await Promise.all(pubs.map((pub) => pub.publish(ev.name, ev.payload as never)));
            }
          });
          if (delivered !== count) throw new Error(`hub delivered ${delivered} UI events, expected ${count}`);
          await hub.close();
          return (count / ms) * 1000;
        },
        bare: async () => {
          const states = ids.map(bareSession);
          let delivered = 0;
          const sink = (ui: unknown[]) => void (delivered += ui.length);
          const ms = await timeMs(() => {
            for (const ev of events) for (const s of states) bareApply(s, ev, sink);
          });
          if (delivered !== count) throw new Error(`bare loop delivered ${delivered} UI events, expected ${count}`);
          return (count / ms) * 1000;
        },
      });
      rows.push(
        makeRow({
          scenario: "hub-memory",
          size: `${sessions} sess x ${perSession} ev`,
          metric: "throughput",
          unit: "events/s",
          higherIsBetter: true,
          ours: stats.ours,
          baselineName: "bare loop",
          baseline: stats.bare,
          target: { of: "ratio", op: ">=", value: 0.5 },
        }),
      );
    }
    return rows;
  },
};
