// The test kit waits for runs: awaitRuns resolves once no run of the session is
// running, with their end states, and names the runs still running on timeout.
import { expect, test } from "vitest";
import { createTestHub } from "../../src/testing/index.js";
import { runsHub, tokens } from "../helpers/runs-app.js";

test("awaitRuns resolves once every run of the session has ended, with their states", async () => {
  const t = await createTestHub(({ store, fanout, hubOptions }) => runsHub({ store, fanout, hubOptions: hubOptions as never }));
  await t.hub.startRun("s", { kind: "answer", data: { messageId: "a" } }, tokens("a", 5, 5));
  const slow = await t.hub.startRun("s", { kind: "answer", data: { messageId: "b" } }, tokens("b", Infinity, 5));
  await expect(t.awaitRuns("s", { timeoutMs: 100 })).rejects.toThrow(`awaitRuns: answer ${slow.runId} still running after 100 ms`);
  await t.hub.stopRun(slow.runId);
  const runs = await t.awaitRuns("s");
  expect(runs.map((r) => [r.data["messageId"], r.state]).sort()).toEqual([
    ["a", "finished"],
    ["b", "stopped"],
  ]);
  const text = (await t.snapshot("s")).entities.find((e) => e.id === "a")!.payload as unknown as { text: string; status: string };
  expect(text).toMatchObject({ text: "t0 t1 t2 t3 t4 ", status: "finished" });
  await t.hub.close({ runGraceMs: 0 });
});

test("awaitRuns resolves only once the ended runs' terminal events are applied, not just when the store says ended", async () => {
  const t = await createTestHub(({ store, fanout, hubOptions }) => {
    const hub = runsHub({ store, fanout, hubOptions: hubOptions as never });
    // A slow hook: the store says "finished" 50 ms before the terminal event.
    hub.registerRunKind("slow-end", {
      finished: async (run, pub) => {
        await new Promise((r) => setTimeout(r, 50));
        await pub.publish("Ended", { messageId: String(run.data["messageId"]), chunk: "finished" });
      },
    });
    return hub;
  });
  await t.hub.startRun("s2", { kind: "slow-end", data: { messageId: "m" } }, tokens("m", 2, 1));
  const [run] = await t.awaitRuns("s2");
  expect(run!.state).toBe("finished");
  const message = (await t.snapshot("s2")).entities.find((e) => e.id === "m")!.payload as unknown as { status: string };
  expect(message.status).toBe("finished");
  await t.hub.runsSettled();
  await t.hub.close({ runGraceMs: 0 });
});
