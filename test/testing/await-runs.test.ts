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
