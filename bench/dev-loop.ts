// The newcomer's dev loop, timed end to end with the built CLI, as a user runs it:
//
//   init -> npm install -> `sessionstream dev` (runs gen itself) -> the page answers a prompt
//   proto edit -> gen + reload done       (a new field in a command message, N times)
//   source save -> reload done            (a save through temp file + rename, like editors and gen, N times)
//
// "Answered page" is measured in headless Chromium when /usr/bin/chromium exists
// (page loaded, prompt sent, first streamed token shown); otherwise with a
// websocket client (subscribe, POST the command, first streamed UI frame).
// A reload is done when /__sessionstream/api/status reports `ready` with a
// higher loadCount (polled every 20 ms). Prints a table; asserts nothing.
//
//   npm run build && node --import tsx bench/dev-loop.ts [--reps 5] [--keep]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { tempDir } from "./lib/tmp.js";

const { values: args } = parseArgs({ options: { reps: { type: "string", default: "5" }, keep: { type: "boolean", default: false } } });
const reps = Number(args.reps);
const repo = join(import.meta.dirname, "..");
const CHROMIUM = "/usr/bin/chromium";
const root = args.keep ? spawnSync("mktemp", ["-d"], { encoding: "utf8" }).stdout.trim() : tempDir("devloop");
const app = join(root, "my-chat");
const env = { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" };

const now = () => performance.now();
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function runStep(cmd: string, argv: string[], cwd: string): number {
  const t = now();
  const r = spawnSync(cmd, argv, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return now() - t;
}

async function poll<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Status {
  state: string;
  loadCount: number;
}
async function status(base: string): Promise<Status | undefined> {
  try {
    return (await (await fetch(`${base}/__sessionstream/api/status`)).json()) as Status;
  } catch {
    return undefined;
  }
}

async function reloadAfter(base: string, edit: () => void): Promise<number> {
  const before = (await status(base))!.loadCount;
  const t = now();
  edit();
  await poll(async () => {
    const s = await status(base);
    return s && s.state === "ready" && s.loadCount > before ? s : undefined;
  }, "the reload");
  const elapsed = now() - t;
  await sleep(1000); // let late watch events settle before the next edit
  return elapsed;
}

function atomicWrite(file: string, text: string): void {
  writeFileSync(`${file}.tmp-bench`, text);
  renameSync(`${file}.tmp-bench`, file);
}

type Browser = import("playwright-core").Browser;

/** The user's browser is open before they start: launched outside the timings. */
async function launchBrowser(): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
}

async function firstAnswer(base: string, browser: Browser | undefined): Promise<string> {
  if (browser) {
    const page = await browser.newPage();
    await page.goto(`${base}/#bench`);
    await page.getByTestId("prompt").fill("Explain ordinals");
    await page.getByTestId("send").click();
    await page.waitForFunction(() => (document.querySelector('#messages li[data-role="assistant"]')?.textContent ?? "").length > 0, null, { timeout: 60_000 });
    await page.close();
    return "headless Chromium: page load, prompt sent, first token shown";
  }
  await (await fetch(`${base}/`)).text();
  const ws = new WebSocket(`${base.replace("http", "ws")}/ws`);
  const got = new Promise<void>((done) =>
    ws.on("message", (d) => {
      if (JSON.parse(d.toString())["uiEvent"]?.name === "ChatMessageAppended") done();
    }),
  );
  await new Promise((r) => ws.once("open", r));
  ws.send(JSON.stringify({ subscribe: { sessionId: "bench" } }));
  await fetch(`${base}/api/sessions/bench/commands/ChatStartInference`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"prompt":"Explain ordinals"}' });
  await got;
  ws.close();
  return "websocket client: GET /, subscribe, POST, first streamed frame";
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const rows: Array<[string, string]> = [];
let dev: ChildProcess | undefined;
const browser = await launchBrowser();
try {
  const t0 = now();
  const init = runStep(process.execPath, [join(repo, "bin/sessionstream.js"), "init", app, "--sessionstream", repo], root);
  const install = runStep("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], app);
  const tDev = now();
  let output = "";
  const marks = new Map<string, number>();
  dev = spawn(process.execPath, [join(app, "node_modules/.bin/sessionstream"), "dev", "--port", "0"], { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] });
  const onData = (d: Buffer) => {
    output += d;
    for (const mark of ["ran gen", "app loaded"]) if (!marks.has(mark) && output.includes(mark)) marks.set(mark, now() - tDev);
  };
  dev.stdout!.on("data", onData);
  dev.stderr!.on("data", onData);
  const base = await poll(() => /app {8}(http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1], `dev to start:\n${output}`);
  const started = now() - tDev;
  const tAnswer = now();
  const how = await firstAnswer(base, browser);
  const answer = now() - tAnswer;
  const total = now() - t0;
  if (!output.includes("ran gen")) throw new Error(`dev did not run gen at start:\n${output}`);

  const protoFile = join(app, "proto/chat/v1/chat.proto");
  const protoTimes: number[] = [];
  for (let i = 0; i < reps; i++) {
    const text = readFileSync(protoFile, "utf8");
    protoTimes.push(await reloadAfter(base, () => atomicWrite(protoFile, text.replace("  string prompt = 1;\n", `  string prompt = 1;\n  string note_${i} = ${50 + i};\n`))));
  }
  const sourceFile = join(app, "src/projections/chat-ui.ts");
  const sourceTimes: number[] = [];
  for (let i = 0; i < reps; i++) {
    const text = readFileSync(sourceFile, "utf8");
    sourceTimes.push(await reloadAfter(base, () => atomicWrite(sourceFile, `${text}// edit ${i}\n`)));
  }

  rows.push(
    ["init", seconds(init)],
    ["npm install (file: dependency on this checkout, --prefer-offline)", seconds(install)],
    ["sessionstream dev until it prints its URLs (gen at start + app load)", seconds(started)],
    ["  of which: start until gen done", seconds(marks.get("ran gen") ?? NaN)],
    ["  of which: gen done until the app is loaded", seconds((marks.get("app loaded") ?? NaN) - (marks.get("ran gen") ?? NaN))],
    [`first answer (${how})`, seconds(answer)],
    ["**init -> answered page, total**", `**${seconds(total)}**`],
    ["init -> answered page, without npm install", seconds(total - install)],
    [`proto edit -> gen + reload done (median of ${reps}, min-max)`, `${seconds(median(protoTimes))} (${seconds(Math.min(...protoTimes))}-${seconds(Math.max(...protoTimes))})`],
    [`source save by rename -> reload done (median of ${reps}, min-max)`, `${seconds(median(sourceTimes))} (${seconds(Math.min(...sourceTimes))}-${seconds(Math.max(...sourceTimes))})`],
  );
  console.log(`\nNode ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "?"}, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
  console.log("| step | time |\n| --- | --- |");
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  if (args.keep) console.log(`\napp kept in ${app}`);
} finally {
  await browser?.close();
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev!.once("exit", r));
    dev.kill("SIGINT");
    await exited;
  }
}
