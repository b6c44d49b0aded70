// The checked-in examples in headless Chromium, served by `sessionstream dev`
// as `npm start` serves them: the chat streams and survives a reload
// mid-answer; the agent page renders the plan, reasoning, tool calls
// (arguments, status, results, a failed call) and the answer, and survives a
// reload mid-run. Each test also takes the page's screenshot for the README
// (docs/screenshots/<example>.png), rewritten when the page's files change.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { until } from "../helpers/until.js";
import { listFiles } from "../../scripts/examples.js";

const repo = join(import.meta.dirname, "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join(repo, "docs", "screenshots");

/** `sessionstream dev` on an example, on a free port, memory store (the example folder stays untouched). */
class Dev {
  readonly child: ChildProcess;
  output = "";
  url = "";
  constructor(example: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, [join(repo, "bin/sessionstream.js"), "dev", "--cwd", join(repo, "examples", example), "--port", "0", "--store", "memory", "--no-watch"], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (d) => (this.output += d));
    this.child.stderr!.on("data", (d) => (this.output += d));
  }
  async ready(): Promise<this> {
    this.url = await until(() => /app {8}(http:\/\/127\.0\.0\.1:\d+)\//.exec(this.output)?.[1], `dev to start:\n${this.output}`, 90_000);
    return this;
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((done) => this.child.once("exit", done));
    this.child.kill("SIGINT");
    await exited;
  }
}

/** Rewrites docs/screenshots/<example>.png when the example's page files changed since the last one. */
async function screenshot(page: import("playwright-core").Page, example: string): Promise<void> {
  const publicDir = join(repo, "examples", example, "public");
  const hash = createHash("sha256");
  for (const f of listFiles(publicDir)) hash.update(f).update(readFileSync(join(publicDir, f)));
  const digest = hash.digest("hex");
  const png = join(SCREENSHOTS, `${example}.png`);
  const stamp = join(SCREENSHOTS, `${example}.png.source`);
  if (existsSync(png) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === digest && !process.env["UPDATE_SCREENSHOTS"]) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: png, fullPage: true });
  writeFileSync(stamp, `${digest}\n`);
}

describe.skipIf(!existsSync(CHROMIUM))("examples in headless Chromium", () => {
  let browser: import("playwright-core").Browser;
  const devs: Dev[] = [];
  beforeAll(async () => {
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(devs.map((d) => d.stop()));
  });

  test("chat: the answer streams, a reload mid-answer recovers the conversation and it finishes", async () => {
    const dev = await new Dev("chat", { CHAT_TOKEN_DELAY_MS: "40" }).ready();
    devs.push(dev);
    const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
    await page.goto(`${dev.url}/#example-chat`);
    await page.getByTestId("prompt").fill("What is an ordinal?");
    await page.getByTestId("send").click();
    const assistant = page.locator('#messages li[data-role="assistant"]').first();
    await page.waitForFunction(() => (document.querySelector('#messages li[data-role="assistant"]')?.textContent ?? "").length > 30);
    expect(await assistant.getAttribute("data-status")).toBe("streaming");

    await page.reload();
    await page.locator('#messages li[data-role="user"]').first().waitFor();
    expect(await page.locator('#messages li[data-role="user"]').first().textContent()).toBe("What is an ordinal?");
    await page.waitForFunction(() => document.querySelector('#messages li[data-role="assistant"]')?.getAttribute("data-status") === "finished", null, { timeout: 30_000 });
    expect(await assistant.textContent()).toMatch(/^You asked: "What is an ordinal\?"/);
    await screenshot(page, "chat");
    await page.close();
  }, 120_000);

  test("agent: plan, reasoning, tool calls (arguments, results, a failed call) and the answer render; a reload mid-run recovers them", async () => {
    const dev = await new Dev("agent", { AGENT_STEP_DELAY_MS: "60" }).ready();
    devs.push(dev);
    const page = await browser.newPage({ viewport: { width: 900, height: 760 } });
    await page.goto(`${dev.url}/#example-agent`);
    await page.getByTestId("prompt").fill("What is the weather in Lisbon, in °F?");
    await page.getByTestId("send").click();
    // Mid-run: the first tool call has its result, the run is still going.
    await page.locator('li[data-kind="AgentToolCall"][data-status="succeeded"]').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('li[data-kind="AgentRun"]').first().getAttribute("data-status")).toBe("running");

    await page.reload();
    await page.locator('li[data-kind="AgentToolCall"]').first().waitFor();
    await page.waitForFunction(() => document.querySelector('li[data-kind="AgentRun"]')?.getAttribute("data-status") === "finished", null, { timeout: 30_000 });

    const kinds = await page.locator("#timeline > li").evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset["kind"]));
    expect(kinds).toEqual(["AgentMessage", "AgentRun", "AgentPlan", "AgentReasoning", "AgentToolCall", "AgentToolCall", "AgentReasoning", "AgentToolCall", "AgentMessage"]);
    const calls = page.locator('li[data-kind="AgentToolCall"]');
    expect(await calls.evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset["status"]))).toEqual(["succeeded", "failed", "succeeded"]);
    expect(await calls.nth(0).getByTestId("tool-name").textContent()).toBe("get_weather");
    expect(await calls.nth(0).getByTestId("tool-arguments").textContent()).toBe('{"city":"Lisbon"}');
    expect(await calls.nth(0).getByTestId("tool-result").textContent()).toMatch(/^\{"city":"Lisbon","tempC":\d+/);
    expect(await calls.nth(1).getByTestId("tool-error").textContent()).toMatch(/unsupported character "×"/);
    expect(await page.locator(".plan li").evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset["stepStatus"]))).toEqual(["done", "done", "done"]);
    expect(await page.locator('li[data-kind="AgentMessage"][data-role="assistant"]').textContent()).toMatch(/^It is \d+ °C \([\d.]+ °F\) and \w+ in Lisbon\.$/);
    await screenshot(page, "agent");
    await page.close();
  }, 120_000);
});

if (!existsSync(CHROMIUM)) console.log(`examples browser tests skipped: headless Chromium not found at ${CHROMIUM}`);
