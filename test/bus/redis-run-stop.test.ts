// A stop reaches a run on another node through the Redis bus at once, not at
// the owner's next heartbeat. The runs' lease here is 60 s (heartbeats every
// 20 s), so only the bus can deliver the stop within the test's bound.
import { create } from "@bufbuild/protobuf";
import { afterAll, describe, expect, test } from "vitest";
import { createRedisEventBus } from "../../src/bus/redis/index.js";
import { PostgresHydrationStore } from "../../src/store/postgres/index.js";
import { InferenceFinishedEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { chatHub, chatRegistry } from "../helpers/chat-app.js";
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";
import { dropPrefixes, freshPrefix, REDIS_URL, redisUnavailable } from "../helpers/redis.js";
import { until } from "../helpers/until.js";

const skip = (await redisUnavailable()) ?? (await postgresUnavailable());
if (skip) console.log(`skipping the cross-node run stop test: ${skip}`);
const prefix = freshPrefix();
const schema = freshSchema();
afterAll(async () => {
  if (skip) return;
  await dropPrefixes([prefix]);
  await dropSchemas([schema]);
});

function node() {
  const store = new PostgresHydrationStore({ connectionString: PG_URL, schema, registry: chatRegistry(), poolSize: 4 });
  const bus = createRedisEventBus({ url: REDIS_URL, prefix, partitions: 2, leaseMs: 1000, renewEveryMs: 200, readBlockMs: 200, onError: () => {} });
  const hub = chatHub({ store, hubOptions: { bus, onError: () => {}, runs: { leaseMs: 60_000 } } });
  const ended: string[] = [];
  hub.registerRunKind("answer", {
    async stopped(run, publisher) {
      ended.push(`stopped ${run.runId}`);
      await publisher.publish("ChatInferenceFinished", create(InferenceFinishedEventSchema, { messageId: String(run.data["messageId"]) }));
    },
    async finished(run, publisher) {
      ended.push(`finished ${run.runId}`);
      await publisher.publish("ChatInferenceFinished", create(InferenceFinishedEventSchema, { messageId: String(run.data["messageId"]) }));
    },
  });
  return { store, bus, hub, ended };
}

/** Work that streams until its signal aborts. */
function untilAborted(ctx: { signal: AbortSignal; publish: (name: "ChatTokensDelta", p: { messageId: string; chunk: string }) => Promise<bigint> }) {
  return new Promise<void>((resolve, reject) => {
    const tick = setInterval(() => void ctx.publish("ChatTokensDelta", { messageId: "m", chunk: "." }).catch(() => {}), 50);
    ctx.signal.addEventListener("abort", () => {
      clearInterval(tick);
      reject(ctx.signal.reason);
    });
    void resolve;
  });
}

describe.skipIf(skip !== undefined)("runs across nodes on the Redis bus", () => {
  test("stopRun and stopRuns on node B end a run of node A within a second; its terminal event is published once; a finished run answers finished", async () => {
    const a = node();
    const b = node();
    try {
      await Promise.all([a.bus.ready(), b.bus.ready()]);
      await a.hub.publisher("runs").publish("ChatInferenceStarted", { messageId: "m", prompt: "" });
      const run = await a.hub.startRun("runs", { kind: "answer", data: { messageId: "m" } }, untilAborted as never);
      await until(async () => (await a.store.readEvents("runs", 0n, 100)).length >= 3, "the run to stream");

      const started = Date.now();
      const answer = await b.hub.stopRun(run.runId);
      expect(answer).toMatchObject({ runId: run.runId, stopped: false, state: "running", requested: true });
      expect(await run.done).toBe("stopped");
      expect(Date.now() - started).toBeLessThan(1500); // the heartbeat would take up to 20 s
      expect(a.ended).toEqual([`stopped ${run.runId}`]);
      expect((await b.hub.run(run.runId))?.state).toBe("stopped");
      const finishedEvents = (await b.store.readEvents("runs", 0n, 1000)).filter((e) => e.name === "ChatInferenceFinished");
      expect(finishedEvents).toHaveLength(1);

      // By session, from the other node: every running run of it.
      const two = await Promise.all([1, 2].map(() => a.hub.startRun("runs", { kind: "answer", data: { messageId: "m" } }, untilAborted as never)));
      const t0 = Date.now();
      const answers = await b.hub.stopRuns("runs");
      expect(answers.map((x) => x.requested)).toEqual([true, true]);
      expect(await Promise.all(two.map((r) => r.done))).toEqual(["stopped", "stopped"]);
      expect(Date.now() - t0).toBeLessThan(1500);

      // A run that is over: a clear answer, no terminal event again.
      const quick = await a.hub.startRun("runs", { kind: "answer", data: { messageId: "m" } }, async () => "done");
      expect(await quick.done).toBe("finished");
      expect(await b.hub.stopRun(quick.runId)).toEqual({ runId: quick.runId, stopped: false, state: "finished" });
      expect(a.ended.filter((e) => e.endsWith(quick.runId))).toEqual([`finished ${quick.runId}`]);
      expect(b.ended).toEqual([]);
    } finally {
      await a.hub.close().catch(() => {});
      await b.hub.close().catch(() => {});
      await Promise.all([a.store.close(), b.store.close()]);
    }
  }, 60_000);
});
