// `dev` and runs: a reload mid-run ends the run through its kind's
// `interrupted` hook (the new generation sees the message interrupted, never
// streaming), and loading the app recovers the runs a killed process left.
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

function host(storePath: string) {
  return new AppHost({
    cwd: dir,
    appPath: join(dir, "src/app.ts"),
    store: "sqlite",
    storePath,
    onLoaded: () => async () => {},
    onStatus: () => {},
    onEvent: () => {},
  });
}

test("a reload mid-run interrupts the run through its hook: the new generation shows it interrupted, not streaming", async () => {
  const h = host(join(dir, "reload.sqlite"));
  await h.reload();
  const first = h.hub as unknown as Hub<RunsSchema>;
  const run = await first.startRun("d", { kind: "answer", data: { messageId: "m" } }, tokens("m", Infinity, 5));
  await until(async () => (await statuses(first, "d"))["m"] === "streaming", "a first token");
  await h.reload();
  const second = h.hub as unknown as Hub<RunsSchema>;
  expect(second).not.toBe(first);
  expect(await run.done).toBe("interrupted");
  expect(await statuses(second, "d")).toEqual({ m: "interrupted" });
  expect((await second.run(run.runId))!.state).toBe("interrupted");
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
