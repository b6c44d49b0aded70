// The chat example on runs, in headless Chromium, served by `sessionstream
// dev` on a SQLite file: a reload mid-answer lets the answer finish (no
// cursor left); a SIGTERM mid-answer lets it finish within dev's run grace;
// a restart of dev mid-answer with no grace left (SIGTERM with --run-grace 0,
// or kill -9) ends the answer `interrupted` with a Retry button, never a
// streaming cursor; Retry
// streams a new answer. The page reconnects to the restarted server by itself.
// A save that reloads the app mid-answer (dev watching) hands the run to the
// new app instance: the page sees one continuous answer that finishes.
// The agent example: kill -9 mid-run, restart, interrupted with Retry, retried.
// KEEP_RUNS_BROWSER_TMP=1 keeps the temp folder with screenshots of each state.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { until } from "../helpers/until.js";

const repo = join(import.meta.dirname, "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const tmp = mkdtempSync(join(tmpdir(), "ss-runs-browser-"));

/** A port free right now (dev is restarted on the same one, so the page reconnects to it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** `sessionstream dev` on an example with a SQLite file outside the example. */
class Dev {
  readonly child: ChildProcess;
  output = "";
  constructor(port: number, store: string, example = "chat", extra: string[] = []) {
    this.child = spawn(
      process.execPath,
      [join(repo, "bin/sessionstream.js"), "dev", "--cwd", join(repo, "examples", example), "--port", String(port), "--store", `sqlite:${store}`, ...(extra.includes("--watch") ? [] : ["--no-watch"]), ...extra.filter((a) => a !== "--watch")],
      { env: { ...process.env, CHAT_TOKEN_DELAY_MS: "60", AGENT_STEP_DELAY_MS: "60", MODEL: "", OPENAI_BASE_URL: "", OPENAI_API_KEY: "" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child.stdout!.on("data", (d) => (this.output += d));
    this.child.stderr!.on("data", (d) => (this.output += d));
  }
  async ready(): Promise<this> {
    await until(() => /app {8}http:\/\/127\.0\.0\.1:\d+\//.test(this.output), `dev to start:\n${this.output}`, 90_000);
    return this;
  }
  async stop(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((done) => this.child.once("exit", done));
    this.child.kill(signal);
    await exited;
  }
}

describe.skipIf(!existsSync(CHROMIUM))("examples on runs in headless Chromium", () => {
  let browser: import("playwright-core").Browser;
  const devs: Dev[] = [];
  beforeAll(async () => {
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(devs.map((d) => d.stop("SIGKILL")));
    if (!process.env["KEEP_RUNS_BROWSER_TMP"]) rmSync(tmp, { recursive: true, force: true });
  });

  test("reload mid-answer finishes it; SIGTERM lets it finish within the grace; restarting dev mid-answer with no grace (SIGTERM --run-grace 0, kill -9) shows interrupted with Retry, never a cursor; Retry streams a new answer", async () => {
    const port = await freePort();
    const store = join(tmp, "chat.sqlite");
    const start = async (extra: string[] = []) => {
      const dev = await new Dev(port, store, "chat", extra).ready();
      devs.push(dev);
      return dev;
    };
    let dev = await start();
    const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
    await page.goto(`http://127.0.0.1:${port}/#runs-browser`);

    const assistants = page.locator('#messages li[data-role="assistant"]');
    /** The `::after` content of the n-th answer: the streaming cursor, or "none". */
    const cursor = (n: number) => assistants.nth(n).evaluate((li) => getComputedStyle(li, "::after").content);
    const statusOf = (n: number) => assistants.nth(n).getAttribute("data-status");
    const midAnswer = async (n: number) =>
      page.waitForFunction((i) => {
        const li = document.querySelectorAll('#messages li[data-role="assistant"]')[i];
        return li?.getAttribute("data-status") === "streaming" && (li.textContent ?? "").length > 30;
      }, n, { timeout: 30_000 });

    // 1. A reload mid-answer: the run keeps going on the server; the answer finishes, no cursor left.
    await page.getByTestId("prompt").fill("What is an ordinal?");
    await page.getByTestId("send").click();
    await midAnswer(0);
    expect(await cursor(0)).not.toBe("none");
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#messages li[data-role="assistant"]')?.getAttribute("data-status") === "finished", null, { timeout: 30_000 });
    expect(await cursor(0)).toBe("none");
    expect(await assistants.nth(0).textContent()).toMatch(/^You asked: "What is an ordinal\?"/);

    // 2a. dev stops (SIGTERM) mid-answer: within its run grace (--run-grace, default 10 s) the answer finishes first.
    await page.getByTestId("prompt").fill("Finish before you go");
    await page.getByTestId("send").click();
    await midAnswer(1);
    await dev.stop("SIGTERM");
    dev = await start(["--run-grace", "0"]);
    await page.waitForFunction(() => document.querySelectorAll('#messages li[data-role="assistant"]')[1]?.getAttribute("data-status") === "finished", null, { timeout: 30_000 });
    expect(await cursor(1)).toBe("none");
    expect(await assistants.nth(1).textContent()).toMatch(/so far\.$/);

    // 2b. With no grace left (--run-grace 0), the shutdown interrupts the run through its hook.
    await page.getByTestId("prompt").fill("Restart me gently");
    await page.getByTestId("send").click();
    await midAnswer(2);
    await dev.stop("SIGTERM");
    dev = await start();
    await page.waitForFunction(() => document.querySelectorAll('#messages li[data-role="assistant"]')[2]?.getAttribute("data-status") === "interrupted", null, { timeout: 30_000 });
    expect(await cursor(2)).toBe("none");
    expect(await assistants.nth(2).getByTestId("retry").isVisible()).toBe(true);
    expect(await assistants.nth(2).getByTestId("stop").count()).toBe(0);

    // 3. kill -9 mid-answer, then dev again: the next start finds the dead process's run and interrupts it.
    await page.getByTestId("prompt").fill("Kill me hard");
    await page.getByTestId("send").click();
    await midAnswer(3);
    await dev.stop("SIGKILL");
    // While the server is gone the page shows what streamed so far; once dev is back, never "streaming".
    dev = await start();
    await page.waitForFunction(() => document.querySelectorAll('#messages li[data-role="assistant"]')[3]?.getAttribute("data-status") === "interrupted", null, { timeout: 30_000 });
    expect(await cursor(3)).toBe("none");
    expect(await page.locator('#messages li[data-status="streaming"]').count()).toBe(0);
    // A reload after the restart shows the same.
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#messages li[data-role="assistant"]').length === 4);
    expect([await statusOf(0), await statusOf(1), await statusOf(2), await statusOf(3)]).toEqual(["finished", "finished", "interrupted", "interrupted"]);

    await page.screenshot({ path: join(tmp, "chat-interrupted.png"), fullPage: true });
    // 4. Retry resubmits the prompt: a new turn streams to the end.
    await assistants.nth(3).getByTestId("retry").click();
    await page.waitForFunction(() => document.querySelectorAll('#messages li[data-role="assistant"]')[4]?.getAttribute("data-status") === "finished", null, { timeout: 30_000 });
    expect(await page.locator('#messages li[data-role="user"]').nth(4).textContent()).toBe("Kill me hard");
    expect(await assistants.nth(4).textContent()).toMatch(/^You asked: "Kill me hard"/);
    expect(await cursor(4)).toBe("none");
    expect(await page.locator('#messages li[data-status="streaming"]').count()).toBe(0);
    await page.screenshot({ path: join(tmp, "chat-after-retry.png"), fullPage: true });
    await page.close();
    await dev.stop("SIGINT");
  }, 180_000);

  test("a save mid-answer reloads the app and the answer keeps streaming through the new instance to the end: one continuous answer, never interrupted", async () => {
    const port = await freePort();
    const dev = await new Dev(port, join(tmp, "reload.sqlite"), "chat", ["--watch"]).ready();
    devs.push(dev);
    const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
    await page.goto(`http://127.0.0.1:${port}/#runs-save`);
    await page.getByTestId("prompt").fill("Keep going across a save");
    await page.getByTestId("send").click();
    await page.waitForFunction(() => {
      const li = document.querySelector('#messages li[data-role="assistant"]');
      return li?.getAttribute("data-status") === "streaming" && (li.textContent ?? "").length > 30;
    }, null, { timeout: 30_000 });
    const loads = (dev.output.match(/app loaded:/g) ?? []).length;
    // An editor's save: write a temp file, rename it over the source (same content: the example stays as it is).
    const source = join(repo, "examples/chat/src/projections/chat-ui.ts");
    const text = readFileSync(source, "utf8");
    writeFileSync(`${source}.tmp-save`, text);
    renameSync(`${source}.tmp-save`, source);
    await until(() => (dev.output.match(/app loaded:/g) ?? []).length > loads, `the reload:\n${dev.output}`, 30_000);
    await page.waitForFunction(() => document.querySelector('#messages li[data-role="assistant"]')?.getAttribute("data-status") === "finished", null, { timeout: 30_000 });
    const answer = await page.locator('#messages li[data-role="assistant"]').first().textContent();
    expect(answer).toMatch(/^You asked: "Keep going across a save"/);
    expect(answer).toMatch(/so far\.$/);
    // The snapshot agrees after a reload of the page: one answer, finished, not interrupted.
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('#messages li[data-role="assistant"]').length === 1);
    expect(await page.locator('#messages li[data-role="assistant"]').first().getAttribute("data-status")).toBe("finished");
    expect(await page.locator('#messages li[data-role="assistant"]').first().textContent()).toBe(answer);
    expect(dev.output).not.toMatch(/unhandled rejection|hub is closed/);
    await page.close();
    await dev.stop("SIGINT");
  }, 120_000);

  test("agent: kill -9 mid-run and a restart show the run interrupted (no cursor, nothing running) with Retry; Retry runs the task again", async () => {
    const port = await freePort();
    const store = join(tmp, "agent.sqlite");
    const start = async () => {
      const dev = await new Dev(port, store, "agent").ready();
      devs.push(dev);
      return dev;
    };
    let dev = await start();
    const page = await browser.newPage({ viewport: { width: 900, height: 760 } });
    await page.goto(`http://127.0.0.1:${port}/#runs-browser-agent`);
    await page.getByTestId("prompt").fill("What is the weather in Lisbon, in °F?");
    await page.getByTestId("send").click();
    // Mid-run: the answer streams (the cursor shows), the run is running.
    await page.waitForFunction(() => (document.querySelector('li[data-kind="AgentMessage"][data-role="assistant"][data-status="streaming"]')?.textContent ?? "").length > 5, null, { timeout: 30_000 });
    await dev.stop("SIGKILL");
    dev = await start();
    const run = page.locator('li[data-kind="AgentRun"]').first();
    await page.waitForFunction(() => document.querySelector('li[data-kind="AgentRun"]')?.getAttribute("data-status") === "interrupted", null, { timeout: 30_000 });
    const answer = page.locator('li[data-kind="AgentMessage"][data-role="assistant"]').first();
    expect(await answer.getAttribute("data-status")).toBe("interrupted");
    expect(await answer.locator(".text").evaluate((t) => getComputedStyle(t, "::after").content)).toBe("none");
    expect(await page.locator('#timeline li[data-status="streaming"], #timeline li[data-status="running"]').count()).toBe(0);
    expect(await page.locator('.plan li[data-step-status="active"]').count()).toBe(0);
    expect(await run.getByTestId("stop").count()).toBe(0);
    await page.screenshot({ path: join(tmp, "agent-interrupted.png"), fullPage: true });

    await run.getByTestId("retry").click();
    await page.waitForFunction(() => document.querySelectorAll('li[data-kind="AgentRun"]')[1]?.getAttribute("data-status") === "finished", null, { timeout: 30_000 });
    expect(await page.locator('li[data-kind="AgentMessage"][data-role="user"]').nth(1).textContent()).toBe("What is the weather in Lisbon, in °F?");
    expect(await page.locator('li[data-kind="AgentMessage"][data-role="assistant"]').nth(1).textContent()).toMatch(/^It is \d+ °C/);
    await page.close();
    await dev.stop("SIGINT");
  }, 180_000);
});

if (!existsSync(CHROMIUM)) console.log(`chat runs browser test skipped: headless Chromium not found at ${CHROMIUM}`);
