// `dev` and runs: a reload mid-run hands the run to the new generation (it
// keeps streaming to completion through it, and a stop sent there reaches
// it); past the grace period it ends through its kind's `interrupted` hook
// (never left streaming); loading the app recovers the runs a killed
// process left.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, expect, test } from "vitest";
import { AppHost } from "../../src/dev/app-host.js";
import type { Hub } from "../../src/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import { runsRegistry, statuses, tokens, type RunsSchema } from "../helpers/runs-app.js";
import { until } from "../helpers/until.js";

const repo = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "ss-devruns-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "src"), { recursive: true });
writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
writeFileSync(
  join(dir, "src/app.ts"),
  `import { runsHub } from ${JSON.stringify(pathToFileURL(join(repo, "test/helpers/runs-app.ts")).href)};
export function createApp({ store }: { store: any }) { return runsHub({ store }); }
`,
);

function host(storePath: string, runGraceMs = 10_000) {
  return new AppHost({
    cwd: dir,
    appPath: join(dir, "src/app.ts"),
    store: "sqlite",
    storePath,
    runGraceMs,
    onLoaded: () => async () => {},
    onStatus: () => {},
    onEvent: () => {},
  });
}

test("a reload mid-run hands the run to the new generation: it streams to completion there, one terminal event", async () => {
  const h = host(join(dir, "reload.sqlite"));
  await h.reload();
  const first = h.hub as unknown as Hub<RunsSchema>;
  const run = await first.startRun("d", { kind: "answer", data: { messageId: "m" } }, tokens("m", 20, 10));
  await until(async () => (await statuses(first, "d"))["m"] === "streaming", "a first token");
  const before = await first.cursor("d");
  await h.reload();
  const second = h.hub as unknown as Hub<RunsSchema>;
  expect(second).not.toBe(first);
  expect(await run.done).toBe("finished");
  expect(await statuses(second, "d")).toEqual({ m: "finished" });
  // 20 tokens and one terminal event, the later ones applied by the new generation.
  expect(await second.cursor("d")).toBe(21n);
  expect(before).toBeLessThan(20n);
  const text = (await second.snapshot("d")).entities[0]!.payload as unknown as { text: string };
  expect(text.text).toBe(Array.from({ length: 20 }, (_, i) => `t${i} `).join(""));
  await h.close();
});

test("a stop after a reload reaches the handed-over run; past the grace period a run is interrupted, never left streaming", async () => {
  const h = host(join(dir, "reload-stop.sqlite"), 300);
  await h.reload();
  const first = h.hub as unknown as Hub<RunsSchema>;
  const stopped = await first.startRun("e", { kind: "answer", data: { messageId: "a" } }, tokens("a", Infinity, 10));
  await until(async () => (await statuses(first, "e"))["a"] === "streaming", "a first token");
  await h.reload();
  const second = h.hub as unknown as Hub<RunsSchema>;
  expect(await second.stopRun(stopped.runId)).toEqual({ runId: stopped.runId, stopped: true, state: "stopped" });
  expect(await stopped.done).toBe("stopped");

  const endless = await second.startRun("e", { kind: "answer", data: { messageId: "b" } }, tokens("b", Infinity, 10));
  await until(async () => (await statuses(second, "e"))["b"] === "streaming", "b streaming");
  await h.reload();
  const third = h.hub as unknown as Hub<RunsSchema>;
  expect(await endless.done).toBe("interrupted");
  expect(await statuses(third, "e")).toEqual({ a: "stopped", b: "interrupted" });
  await h.close();
});

test("loading the app recovers the runs a killed process left running", async () => {
  const path = join(dir, "crash.sqlite");
  const store = new SqliteHydrationStore({ path, registry: runsRegistry() });
  await store.createRun({
    runId: "orphan",
    sessionId: "c",
    kind: "answer",
    owner: "somehost-that-is-gone:1:x",
    state: "running",
    data: { messageId: "m" },
    startedAt: 1,
    heartbeatAt: 1,
    stopRequested: false,
  });
  await store.close();
  const h = host(path);
  await h.reload();
  expect(h.status.state).toBe("ready");
  const hub = h.hub as unknown as Hub<RunsSchema>;
  expect((await hub.run("orphan"))!.state).toBe("interrupted");
  expect(await statuses(hub, "c")).toEqual({ m: "interrupted" });
  await h.close();
});
