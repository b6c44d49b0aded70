// The inspector's runs panel: `GET /__sessionstream/api/sessions/:id/runs`
// lists a session's runs (state, owner, age, last event) and
// `POST /__sessionstream/api/runs/:runId/stop` calls hub.stopRun, answering
// clearly for a run that is over or unknown and refusing cross-origin
// requests; in headless Chromium the panel shows the run and its Stop button
// stops it.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { inspectorUrl, startDevServer } from "../../src/dev/dev-server.js";
import type { Hub } from "../../src/index.js";
import { statuses, tokens, type RunsSchema } from "../helpers/runs-app.js";
import { until } from "../helpers/until.js";

const repo = join(import.meta.dirname, "..", "..");
const root = mkdtempSync(join(tmpdir(), "ss-inspector-runs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function appDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "src"), { recursive: true });
  mkdirSync(join(dir, "public"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(
    join(dir, "src/app.ts"),
    `import { runsHub } from ${JSON.stringify(pathToFileURL(join(repo, "test/helpers/runs-app.ts")).href)};
export function createApp({ store }: { store: any }) { return runsHub({ store }); }
`,
  );
  return dir;
}

async function stop(base: string, runId: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/__sessionstream/api/runs/${encodeURIComponent(runId)}/stop`, { method: "POST", headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("inspector runs", () => {
  test("the API lists a session's runs and stops one; a run that is over or unknown answers its state; cross-origin is refused", async () => {
    const server = await startDevServer({ cwd: appDir("api"), port: 0, store: "memory", watch: false, log: () => {} });
    try {
      const hub = server.hub() as unknown as Hub<RunsSchema>;
      const long = await hub.startRun("s1", { kind: "answer", data: { messageId: "a" } }, tokens("a", Infinity, 5));
      const short = await hub.startRun("s1", { kind: "answer", data: { messageId: "b" } }, tokens("b", 2, 1));
      expect(await short.done).toBe("finished");
      await until(async () => (await statuses(hub, "s1"))["a"] === "streaming", "a first token");

      const listed = (await (await fetch(`${server.url}/__sessionstream/api/sessions/s1/runs`)).json()) as {
        owner: string;
        lastEvent: { ordinal: string; name: string };
        runs: Array<Record<string, unknown>>;
      };
      expect(listed.owner).toBe(hub.runOwner);
      expect(listed.lastEvent.name).toMatch(/^(Token|Ended)$/);
      expect(BigInt(listed.lastEvent.ordinal)).toBeGreaterThan(0n);
      expect(listed.runs.map((r) => [r["runId"], r["kind"], r["state"], r["owner"], r["local"]])).toEqual([
        [long.runId, "answer", "running", hub.runOwner, true],
        [short.runId, "answer", "finished", hub.runOwner, true],
      ]);
      expect(listed.runs[0]).toMatchObject({ data: { messageId: "a" }, ageMs: expect.any(Number), startedAt: expect.any(Number), heartbeatAt: expect.any(Number) });
      expect(listed.runs[1]).toMatchObject({ endedAt: expect.any(Number) });

      // Another site's page may not stop runs on a developer's machine.
      const foreign = await stop(server.url, long.runId, { origin: "http://evil.example" });
      expect(foreign.status).toBe(403);
      expect((await hub.run(long.runId))!.state).toBe("running");

      expect(await stop(server.url, long.runId)).toEqual({ status: 200, body: { runId: long.runId, stopped: true, state: "stopped" } });
      expect(await statuses(hub, "s1")).toEqual({ a: "stopped", b: "finished" });
      expect(await stop(server.url, long.runId, { origin: server.url })).toEqual({ status: 200, body: { runId: long.runId, stopped: false, state: "stopped" } });
      expect(await stop(server.url, short.runId)).toEqual({ status: 200, body: { runId: short.runId, stopped: false, state: "finished" } });
      expect(await stop(server.url, "run_nope")).toEqual({ status: 404, body: { runId: "run_nope", stopped: false, state: "unknown" } });

      const empty = (await (await fetch(`${server.url}/__sessionstream/api/sessions/nobody/runs`)).json()) as { runs: unknown[]; lastEvent: unknown };
      expect(empty).toMatchObject({ runs: [], lastEvent: null });
    } finally {
      await server.close();
    }
  });

  const CHROMIUM = "/usr/bin/chromium";
  if (!existsSync(CHROMIUM)) console.log(`inspector runs panel browser test skipped: headless Chromium not found at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  test.skipIf(!existsSync(CHROMIUM))("the inspector page lists the session's runs and its Stop button stops a running one (headless Chromium)", async () => {
    const server = await startDevServer({ cwd: appDir("browser"), port: 0, store: "memory", watch: false, log: () => {} });
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    try {
      const hub = server.hub() as unknown as Hub<RunsSchema>;
      const done = await hub.startRun("s1", { kind: "answer", data: { messageId: "done" } }, tokens("done", 1, 1));
      await done.done;
      const run = await hub.startRun("s1", { kind: "answer", data: { messageId: "live" } }, tokens("live", Infinity, 20));
      await until(async () => (await statuses(hub, "s1"))["live"] === "streaming", "a first token");

      const page = await browser.newPage();
      await page.goto(`${inspectorUrl(server.url)}#s1`);
      const row = page.locator(`#runs tr[data-run="${run.runId}"]`);
      await row.waitFor({ timeout: 20_000 });
      expect(await row.getAttribute("data-state")).toBe("running");
      const cells = await row.locator("td").allTextContents();
      expect(cells[0]).toBe(`${run.runId}answer`);
      expect(cells[1]).toBe("running");
      expect(cells[2]).toBe("this server");
      expect(cells[3]).toMatch(/^\d+s$/);
      expect(cells[4]).toMatch(/^\d+ (Token|Ended)$/);
      expect(await page.locator(`#runs tr[data-run="${done.runId}"]`).getAttribute("data-state")).toBe("finished");
      expect(await page.locator(`#runs tr[data-run="${done.runId}"] button`).count()).toBe(0);

      await page.getByTestId(`stop-run-${run.runId}`).click();
      await page.waitForFunction((id) => document.querySelector(`#runs tr[data-run="${id}"]`)?.getAttribute("data-state") === "stopped", run.runId, { timeout: 20_000 });
      expect(await page.getByTestId("run-result").textContent()).toBe(`${run.runId}: stopped`);
      expect((await hub.run(run.runId))!.state).toBe("stopped");
      expect(await statuses(hub, "s1")).toEqual({ done: "finished", live: "stopped" });
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
