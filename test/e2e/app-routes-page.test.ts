// A page that calls the app's own routes (`GET /api/config`, `POST
// /api/chat`) and speaks the standard protocol (a websocket subscription via
// the client module served under /__sessionstream/dist/), as a browser
// client written for the reference implementation does: fixtures/apps/
// app-routes served by `sessionstream dev` and by `sessionstream start`
// (child processes of the built CLI), driven in headless Chromium.
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { StartProcess } from "../helpers/start-app.js";
import { until } from "../helpers/until.js";

const repo = join(import.meta.dirname, "..", "..");
const CHROMIUM = "/usr/bin/chromium";

/** A temp copy of the fixture app, its `sessionstream` import resolving to this checkout. */
function copyFixture(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "ss-app-routes-page-"));
  cpSync(join(repo, "fixtures/apps/app-routes"), dir, { recursive: true });
  cpSync(join(repo, "fixtures/runtime/gen/chat/v1/chat_pb.ts"), join(dir, "src/chat_pb.ts"));
  mkdirSync(join(dir, "node_modules/@bufbuild"), { recursive: true });
  symlinkSync(repo, join(dir, "node_modules/sessionstream"), "dir");
  symlinkSync(join(repo, "node_modules/@bufbuild/protobuf"), join(dir, "node_modules/@bufbuild/protobuf"), "dir");
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `sessionstream dev` on the copy, on a free port. */
class DevProcess {
  readonly child: ChildProcess;
  output = "";
  url = "";
  constructor(cwd: string) {
    this.child = spawn(process.execPath, [join(repo, "bin/sessionstream.js"), "dev", "--cwd", cwd, "--port", "0", "--store", "memory", "--no-watch"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (d) => (this.output += d));
    this.child.stderr!.on("data", (d) => (this.output += d));
  }
  async ready(): Promise<this> {
    this.url = await until(() => /app {8}(http:\/\/127\.0\.0\.1:\d+)\//.exec(this.output)?.[1], `dev to start:\n${this.output}`, 90_000, 50);
    return this;
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((done) => this.child.once("exit", done));
    this.child.kill("SIGINT");
    await exited;
  }
}

if (!existsSync(CHROMIUM)) console.log(`app routes page test skipped: headless Chromium not found at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);

describe.skipIf(!existsSync(CHROMIUM))("a page on the app's routes and the standard protocol, in headless Chromium", () => {
  let browser: import("playwright-core").Browser;
  const app = copyFixture();
  const stops: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    for (const stop of stops) await stop();
    app.remove();
  });

  /** Loads the page, checks the config route, asks, waits for the streamed answer, reloads and finds it again. */
  async function drive(base: string, session: string): Promise<void> {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    });
    await page.goto(`${base}/#${session}`);
    // GET /api/config (an app route) filled these.
    await page.waitForFunction(() => document.getElementById("title")?.textContent === "App routes demo");
    expect(await page.getByTestId("model").textContent()).toBe("echo");
    // The standard protocol: snapshot, then live.
    await page.waitForFunction(() => document.getElementById("status")?.textContent === "live");

    await page.getByTestId("prompt").fill("hello routes");
    await page.getByTestId("send").click();
    // POST /api/chat (an app route) submitted ChatStartInference; the answer streams over /ws.
    await page.waitForFunction(() => document.querySelector('#messages li[data-status="finished"]')?.textContent === "echo: hello routes", null, { timeout: 20_000 });
    expect(await page.getByTestId("error").textContent()).toBe("");

    // The same conversation through the standard HTTP snapshot, and after a reload (hydrated from it).
    const snap = (await (await fetch(`${base}/api/sessions/${session}/snapshot`)).json()) as { entities: Array<{ payload: { text: string; status: string } }> };
    expect(snap.entities.map((e) => [e.payload.text.trim(), e.payload.status])).toEqual([["echo: hello routes", "finished"]]);
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#messages li[data-status="finished"]')?.textContent === "echo: hello routes");

    // An invalid body answers the route's own 400, shown by the page.
    await page.evaluate(async () => {
      const res = await fetch("/api/chat", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sessionId: 1 }) });
      document.getElementById("error")!.textContent = `${res.status}`;
    });
    expect(await page.getByTestId("error").textContent()).toBe("400");
    expect(problems.filter((p) => !p.includes("/api/chat"))).toEqual([]);
    await page.close();
  }

  test("served by sessionstream dev", async () => {
    const dev = await new DevProcess(app.dir).ready();
    stops.push(() => dev.stop());
    expect(dev.output).toContain("registered 1 commands: ChatStartInference");
    await drive(dev.url, "dev-session");
  }, 120_000);

  test("served by sessionstream start", async () => {
    const start = await new StartProcess(app.dir, ["--store", "memory"]).ready();
    stops.push(() => start.stop());
    await drive(start.url, "start-session");
    expect(start.lines().filter((l) => l.level === "error")).toEqual([]);
  }, 120_000);
});
