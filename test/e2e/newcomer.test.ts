// A newcomer's first hour, for real: `init` into a temp folder against this
// checkout, `npm install`, `gen`, the app's own tests, `dev` on a free port
// driven by a websocket client, HTTP commands and headless Chromium, a syntax
// error fixed while `dev` runs, and a restart that keeps the conversation.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { until } from "../helpers/until.js";

const repo = join(import.meta.dirname, "..", "..");
const root = mkdtempSync(join(tmpdir(), "ss-newcomer-"));
const app = join(root, "my-chat");
const CHROMIUM = "/usr/bin/chromium";
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/**
 * Runs a command and resolves with its stdout (`both`: stdout + stderr). Asynchronous on
 * purpose: a synchronous npm install blocks the vitest worker for minutes on a loaded
 * machine, and vitest then fails the run with "Timeout calling onTaskUpdate".
 */
function run(cmd: string, args: string[], cwd: string, { timeout = 300_000, both = false } = {}): Promise<string> {
  return new Promise((done, fail) => {
    execFile(cmd, args, { cwd, encoding: "utf8", timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" } }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stdout}\n${stderr}`));
      else done(both ? `${stdout}\n${stderr}` : stdout);
    });
  });
}


/** `sessionstream dev` as a user starts it, on a free port. */
class DevProcess {
  readonly child: ChildProcess;
  output = "";
  url = "";
  constructor() {
    this.child = spawn(process.execPath, [join(app, "node_modules/.bin/sessionstream"), "dev", "--port", "0"], {
      cwd: app,
      env: { ...process.env, CHAT_TOKEN_DELAY_MS: "40" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (d) => (this.output += d));
    this.child.stderr!.on("data", (d) => (this.output += d));
  }
  async ready(): Promise<this> {
    // Generous: dev may run gen first (TypeScript, buf), and CI machines are shared.
    this.url = await until(() => /app {8}(http:\/\/127\.0\.0\.1:\d+)\//.exec(this.output)?.[1], `dev to start:\n${this.output}`, 90_000);
    return this;
  }
  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((done) => this.child.once("exit", (code) => done(code)));
    this.child.kill("SIGINT");
    return exited;
  }
}

async function command(base: string, session: string, name: string, body: unknown) {
  const res = await fetch(`${base}/api/sessions/${encodeURIComponent(session)}/commands/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function snapshotTexts(base: string, session: string): Promise<Array<[string, string, string]>> {
  const snap = (await (await fetch(`${base}/api/sessions/${encodeURIComponent(session)}/snapshot`)).json()) as {
    entities?: Array<{ payload: { role?: string; text?: string; status?: string } }>;
  };
  return (snap.entities ?? []).map((e) => [e.payload.role ?? "", e.payload.text ?? "", e.payload.status ?? ""]);
}

let dev: DevProcess | undefined;
let installOutput = "";

beforeAll(async () => {
  await run(process.execPath, [join(repo, "bin/sessionstream.js"), "init", app, "--sessionstream", repo], root);
  installOutput = await run(npm, ["install", "--no-audit", "--no-fund"], app, { both: true });
  await run(join(app, "node_modules/.bin/sessionstream"), ["gen"], app);
}, 600_000);

afterAll(async () => {
  if (dev && dev.child.exitCode === null) await dev.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("newcomer run", () => {
  test("gen wrote the generated code and left the template's own code alone", async () => {
    expect(existsSync(join(app, "src/gen/chat/v1/chat_sessionstream.ts"))).toBe(true);
    expect(readFileSync(join(app, "src/gen/chat/v1/chat_pb.ts"), "utf8")).toContain('from "sessionstream/gen/sessionstream/v1/options_pb.js"');
    expect(readFileSync(join(app, "src/handlers/chat-start-inference.ts"), "utf8")).toContain("startRun");
    expect(await run(join(app, "node_modules/.bin/sessionstream"), ["gen", "--check"], app)).toContain("up to date");
  }, 120_000);

  test("npm install of the app prints no allowScripts warning (the local checkout's prepare is covered)", async () => {
    expect(installOutput).not.toMatch(/install-scripts|allowScripts/);
    expect(await run(npm, ["install-scripts", "ls"], app)).toContain("No packages with unreviewed install scripts");
  }, 60_000);

  test("the app's own tests pass", async () => {
    const out = await run(npm, ["test"], app);
    // Every test file of the template (chat, openai against a loopback stand-in, restart, runs, crash) runs and passes.
    const files = readdirSync(join(app, "test")).filter((f) => f.endsWith(".test.ts")).length;
    expect(out, out).toMatch(new RegExp(`Test Files\\s+${files} passed \\(${files}\\)`));
    expect(out, out).toMatch(/Tests\s+\d+ passed \(\d+\)/);
    expect(out, out).not.toMatch(/failed/);
  }, 120_000);

  test("dev: websocket hello, snapshot, subscribed and streamed UI frames; restart keeps the conversation", async () => {
    // dev before gen: it runs gen itself and says so.
    rmSync(join(app, "src/gen"), { recursive: true, force: true });
    dev = await new DevProcess().ready();
    expect(dev.output).toMatch(/generated code was missing or stale: ran gen \(\d+ files written\)/);
    expect(existsSync(join(app, "src/gen/chat/v1/chat_sessionstream.ts"))).toBe(true);
    expect(dev.output).toContain("inspector  http://127.0.0.1:");
    expect(dev.output).toMatch(/store {6}.*\.sessionstream\/dev\.sqlite/);
    expect(dev.output).toContain("registered 2 commands: ChatStartInference, ChatStopInference");

    const frames: Array<Record<string, any>> = [];
    const ws = new WebSocket(`${dev.url.replace("http", "ws")}/ws`);
    ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once("open", r));
    ws.send(JSON.stringify({ subscribe: { sessionId: "newcomer" } }));
    await until(() => frames.some((f) => f["subscribed"]), "subscribed");
    expect(frames.map((f) => Object.keys(f)[0])).toEqual(["hello", "snapshot", "subscribed"]);

    expect(await command(dev.url, "newcomer", "ChatStartInference", { prompt: "What is an ordinal?" })).toMatchObject({ status: 202 });
    await until(() => frames.some((f) => f["uiEvent"]?.name === "ChatMessageFinished"), "the streamed answer");
    const ui = frames.filter((f) => f["uiEvent"]).map((f) => f["uiEvent"]);
    expect(ui[0]).toMatchObject({ name: "ChatUserMessageAdded", eventOrdinal: "1", payload: { "@type": "type.googleapis.com/chat.v1.ChatMessageUpdate", text: "What is an ordinal?" } });
    const ordinals = ui.map((u) => BigInt(u.eventOrdinal));
    expect(ordinals).toEqual([...ordinals].sort((a, b) => (a < b ? -1 : 1)));
    const streamed = ui.filter((u) => u.name === "ChatMessageAppended").map((u) => u.payload.text).join("");
    expect(streamed).toMatch(/^You asked: "What is an ordinal\?"/);
    ws.close();

    const before = await snapshotTexts(dev.url, "newcomer");
    expect(before).toEqual([
      ["user", "What is an ordinal?", "finished"],
      ["assistant", streamed, "finished"],
    ]);

    expect(await dev.stop()).toBe(0);
    expect(dev.output).toContain("stopping: closing sockets and the store");
    dev = await new DevProcess().ready();
    // Up to date now: gen writes nothing and dev does not mention it.
    expect(dev.output).not.toContain("ran gen");
    expect(await snapshotTexts(dev.url, "newcomer")).toEqual(before);
  }, 240_000);

  test("dev: a syntax error is reported and recovered from without restarting dev", async () => {
    const file = join(app, "src/projections/chat-ui.ts");
    const good = readFileSync(file, "utf8");
    const mark = dev!.output.length;
    writeFileSync(file, good.replace("ChatInferenceAccepted(event) {", "ChatInferenceAccepted(event) {{"));
    await until(() => dev!.output.slice(mark).includes("app failed to load"), "the load error");
    expect(dev!.output.slice(mark)).toMatch(/chat-ui\.ts:\d+:\d+/);
    const status = (await (await fetch(`${dev!.url}/__sessionstream/api/status`)).json()) as { state: string; error: string };
    expect(status.state).toBe("error");
    // The last good version keeps serving.
    expect(await command(dev!.url, "still-up", "ChatStartInference", { prompt: "ping" })).toMatchObject({ status: 202 });

    writeFileSync(file, good);
    await until(async () => ((await (await fetch(`${dev!.url}/__sessionstream/api/status`)).json()) as { state: string }).state === "ready", "the reload");
    expect(dev!.child.exitCode).toBeNull();
    expect(await command(dev!.url, "after-fix", "ChatStartInference", { prompt: "pong" })).toMatchObject({ status: 202 });
  }, 60_000);

  test("dev: a proto change re-runs gen; a broken proto is reported; a new command's stub answers 'not implemented'", async () => {
    const proto = join(app, "proto/chat/v1/chat.proto");
    const good = readFileSync(proto, "utf8");
    let mark = dev!.output.length;
    writeFileSync(proto, `${good}\nmessage Broken {\n  strin name = 1;\n}\n`);
    await until(() => dev!.output.slice(mark).includes("gen failed"), "the gen failure");
    expect(dev!.output.slice(mark)).toMatch(/chat\.proto:\d+:\d+/);
    expect(((await (await fetch(`${dev!.url}/__sessionstream/api/status`)).json()) as { state: string }).state).toBe("error");

    mark = dev!.output.length;
    writeFileSync(
      proto,
      `${good}\nmessage RenameChatCommand {\n  option (sessionstream.v1.command) = { name: "ChatRename" };\n  string title = 1;\n}\n`,
    );
    await until(async () => {
      const status = (await (await fetch(`${dev!.url}/__sessionstream/api/status`)).json()) as { state: string; commands: string[] };
      return status.state === "ready" && status.commands.includes("ChatRename");
    }, "the reload with the new command");
    expect(dev!.output.slice(mark)).toContain("created src/handlers/chat-rename.ts");
    const res = await command(dev!.url, "renamed", "ChatRename", { title: "x" });
    expect(res).toEqual({ status: 501, body: { error: { code: "not_implemented", message: "not implemented: edit src/handlers/chat-rename.ts" } } });
    // The existing handlers still work after the merge.
    expect(await command(dev!.url, "renamed", "ChatStartInference", { prompt: "still here" })).toMatchObject({ status: 202 });
    // gen's own writes must not cause a second reload.
    const loads = ((await (await fetch(`${dev!.url}/__sessionstream/api/status`)).json()) as { loadCount: number }).loadCount;
    await new Promise((r) => setTimeout(r, 1500));
    expect(((await (await fetch(`${dev!.url}/__sessionstream/api/status`)).json()) as { loadCount: number }).loadCount).toBe(loads);
  }, 60_000);

  describe.skipIf(!existsSync(CHROMIUM))("in headless Chromium", () => {
    let browser: import("playwright-core").Browser;
    beforeAll(async () => {
      const { chromium } = await import("playwright-core");
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
      });
    }, 60_000);
    afterAll(async () => browser?.close());

    test("the app page streams an answer, and a reload mid-stream recovers the whole conversation", async () => {
      const page = await browser.newPage();
      await page.goto(`${dev!.url}/#browser-chat`);
      await page.getByTestId("prompt").fill("Explain ordinals");
      await page.getByTestId("send").click();
      const assistant = page.locator('#messages li[data-role="assistant"]');
      await assistant.first().waitFor();
      await page.waitForFunction(() => (document.querySelector('#messages li[data-role="assistant"]')?.textContent ?? "").length > 20);
      expect(await assistant.first().getAttribute("data-status")).toBe("streaming");

      await page.reload();
      // After the reload: the same conversation, still streaming or finished, never lost.
      await page.locator('#messages li[data-role="user"]').first().waitFor();
      expect(await page.locator('#messages li[data-role="user"]').first().textContent()).toBe("Explain ordinals");
      await page.waitForFunction(() => document.querySelector('#messages li[data-role="assistant"]')?.getAttribute("data-status") === "finished", null, { timeout: 20_000 });
      const text = await assistant.first().textContent();
      const server = await snapshotTexts(dev!.url, "browser-chat");
      expect(server).toEqual([
        ["user", "Explain ordinals", "finished"],
        ["assistant", text, "finished"],
      ]);
      await page.close();
    }, 60_000);

    test("changing the URL hash switches the chat to that session; no 404s on page load", async () => {
      const page = await browser.newPage();
      const notFound: string[] = [];
      page.on("response", (r) => {
        if (r.status() >= 400) notFound.push(`${r.status()} ${r.url()}`);
      });
      await command(dev!.url, "hash-a", "ChatStartInference", { prompt: "question in A" });
      await command(dev!.url, "hash-b", "ChatStartInference", { prompt: "question in B" });
      await page.goto(`${dev!.url}/#hash-a`);
      const firstUser = page.locator('#messages li[data-role="user"]').first();
      await page.waitForFunction(() => document.querySelector('#messages li[data-role="user"]')?.textContent === "question in A");
      await page.evaluate(() => (location.hash = "#hash-b"));
      await page.waitForFunction(() => document.querySelector('#messages li[data-role="user"]')?.textContent === "question in B");
      expect(await page.locator('#messages li[data-role="user"]').count()).toBe(1);
      // Back to A, and a prompt sent now goes to A.
      await page.goBack();
      await page.waitForFunction(() => document.querySelector('#messages li[data-role="user"]')?.textContent === "question in A");
      await page.getByTestId("prompt").fill("second in A");
      await page.getByTestId("send").click();
      await page.waitForFunction(() => Array.from(document.querySelectorAll('#messages li[data-role="user"]')).some((li) => li.textContent === "second in A"));
      expect((await snapshotTexts(dev!.url, "hash-a")).filter(([role]) => role === "user").map(([, text]) => text)).toEqual(["question in A", "second in A"]);
      expect(await firstUser.textContent()).toBe("question in A");
      await page.reload();
      await firstUser.waitFor();
      expect(notFound).toEqual([]);
      await page.close();
    }, 60_000);

    test("the inspector's command result wraps long values instead of overflowing", async () => {
      const page = await browser.newPage();
      await page.goto(`${dev!.url}/__sessionstream/inspector/`);
      // A long unbroken session id: the 202 answer echoes it.
      const session = `wide-${"w".repeat(240)}`;
      await page.getByTestId("session-input").fill(session);
      await page.getByTestId("session-input").press("Enter");
      const body = page.getByTestId("command-body-ChatStartInference");
      await body.waitFor();
      await body.fill(JSON.stringify({ prompt: "wide" }));
      await page.getByTestId("command-send-ChatStartInference").click();
      await page.getByTestId("command-result").getByText("HTTP 202").waitFor();
      const sizes = await page.getByTestId("command-result").evaluate((el) => ({
        text: el.textContent!.length,
        scroll: el.scrollWidth,
        client: el.clientWidth,
        parentScroll: el.parentElement!.scrollWidth,
        parentClient: el.parentElement!.clientWidth,
      }));
      expect(sizes.text).toBeGreaterThan(240);
      expect(sizes.scroll).toBeLessThanOrEqual(sizes.client);
      expect(sizes.parentScroll).toBeLessThanOrEqual(sizes.parentClient);
      await page.close();
    }, 60_000);

    test("the inspector's command form drives the chat", async () => {
      const page = await browser.newPage();
      await page.goto(`${dev!.url}/__sessionstream/inspector/`);
      await page.getByTestId("session-input").fill("inspected");
      await page.getByTestId("session-input").press("Enter");
      const body = page.getByTestId("command-body-ChatStartInference");
      await body.waitFor();
      await body.fill(JSON.stringify({ prompt: "from the inspector" }));
      await page.getByTestId("command-send-ChatStartInference").click();
      await page.getByTestId("command-result").getByText("HTTP 202").waitFor();
      // Backend events, UI frames and entities fill in live.
      await page.getByTestId("events").getByText("ChatInferenceFinished").first().waitFor({ timeout: 20_000 });
      await page.getByTestId("frames").getByText("ChatMessageFinished").first().waitFor();
      await page.getByTestId("entities").getByText(/from the inspector/).first().waitFor();
      expect(await page.getByTestId("sessions").textContent()).toContain("inspected");
      await page.close();
    }, 60_000);
  });
});

if (!existsSync(CHROMIUM)) {
  console.log(`newcomer browser tests skipped: headless Chromium not found at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
}
