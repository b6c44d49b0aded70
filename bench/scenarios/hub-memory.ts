// Scenario 1: hub throughput with the memory store, against the same
// projection functions and Map updates in a bare synchronous loop, and in
// the same loop behind the queue-and-await pattern any hub pays ("async
// bare": a promise per event, a per-session chain, an awaited store write).
//
// Full mode runs 200k events per size after 2 warm-up rounds, so that one
// repetition lasts long enough for GC pauses and scheduling noise to average
// out (spread under 10% on an idle machine).
import { core } from "../lib/pkg.js";
import { asyncBarePublisher, bareApply, bareSession } from "../lib/bare-loop.js";
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
    "baselines: the same projection functions and Map updates (log, entity upsert, cursor) in a bare synchronous loop; " +
    "and the same loop with the hub's queue-and-await pattern (async bare: publish returns a promise, a per-session promise chain, an awaited async store write), driven like ours.",
  async run(ctx) {
    const total = ctx.quick ? 5_000 : 200_000;
    const warmup = ctx.quick ? ctx.warmup : Math.max(ctx.warmup, 2);
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
        asyncBare: async () => {
          const states = ids.map(bareSession);
          let delivered = 0;
          const publish = asyncBarePublisher((ui) => void (delivered += ui.length));
          const ms = await timeMs(async () => {
            if (states.length === 1) {
              const s = states[0]!;
              for (const ev of events) await publish(s, ev);
            } else {
              for (const ev of events) await Promise.all(states.map((s) => publish(s, ev)));
            }
          });
          if (delivered !== count) throw new Error(`async bare loop delivered ${delivered} UI events, expected ${count}`);
          return (count / ms) * 1000;
        },
      }, { warmup });
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
        makeRow({
          scenario: "hub-memory",
          size: `${sessions} sess x ${perSession} ev`,
          metric: "throughput",
          unit: "events/s",
          higherIsBetter: true,
          ours: stats.ours,
          baselineName: "async bare loop",
          baseline: stats.asyncBare,
          target: { of: "ratio", op: ">=", value: 0.8 },
        }),
      );
    }
    return rows;
  },
};
