// `sessionstream start` as an operator runs it: a child process of the built
// CLI (bin/sessionstream.js -> dist) on a temp copy of fixtures/start/chat,
// whose `sessionstream` import resolves to this checkout.
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { until } from "./until.js";

const repo = join(import.meta.dirname, "..", "..");

/** A fresh copy of the fixture app; `remove()` deletes it. */
export function copyStartApp(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "ss-start-"));
  cpSync(join(repo, "fixtures/start/chat"), dir, { recursive: true });
  cpSync(join(repo, "fixtures/runtime/gen/chat/v1/chat_pb.ts"), join(dir, "src/chat_pb.ts"));
  mkdirSync(join(dir, "node_modules/@bufbuild"), { recursive: true });
  symlinkSync(repo, join(dir, "node_modules/sessionstream"), "dir");
  symlinkSync(join(repo, "node_modules/@bufbuild/protobuf"), join(dir, "node_modules/@bufbuild/protobuf"), "dir");
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One JSON log line. */
export type LogLine = { time: string; level: string; msg: string } & Record<string, unknown>;

/** A running `sessionstream start`. */
export class StartProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  url = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(cwd: string, args: readonly string[] = [], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [join(repo, "bin/sessionstream.js"), "start", "--host", "127.0.0.1", "--port", "0", ...args], {
      cwd,
      env: { ...process.env, TOKEN_DELAY_MS: "20", TOKENS: "5", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (d) => (this.stdout += d));
    this.child.stderr!.on("data", (d) => (this.stderr += d));
    this.exited = new Promise((done) => this.child.once("exit", (code, signal) => done({ code, signal })));
  }

  /** Every stdout line, parsed (throws on a line that is not a JSON object). */
  lines(): LogLine[] {
    return this.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => {
        const parsed = JSON.parse(l) as LogLine;
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`not a JSON object: ${l}`);
        return parsed;
      });
  }

  /** Resolves once the "listening" line is out. */
  async ready(): Promise<this> {
    const line = await until(
      () => this.child.exitCode === null && this.lines().find((l) => l.msg === "listening"),
      `start to listen:\n${this.stdout}\n${this.stderr}`,
      90_000,
      50,
    );
    this.url = String(line["url"]);
    return this;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Runs `start` until it exits (for start-up failures). */
export async function runStartToExit(cwd: string, args: readonly string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new StartProcess(cwd, args);
  const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/** A websocket subscribed to `session`, recording frames and the close code. */
export function subscribe(base: string, session: string, sinceOrdinal?: string) {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/ws`);
  const frames: Array<Record<string, any>> = [];
  let closeCode: number | undefined;
  const closed = new Promise<number>((done) => ws.on("close", (code) => done((closeCode = code))));
  ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
  ws.on("error", () => {});
  ws.on("open", () => ws.send(JSON.stringify({ subscribe: { sessionId: session, ...(sinceOrdinal ? { sinceSnapshotOrdinal: sinceOrdinal } : {}) } })));
  return {
    ws,
    frames,
    closed,
    closeCode: () => closeCode,
    uiEvents: () => frames.filter((f) => f["uiEvent"]).map((f) => f["uiEvent"] as { eventOrdinal: string; name: string; payload: Record<string, unknown> }),
  };
}

/** POSTs a command; resolves with the status and JSON body. */
export async function command(base: string, session: string, name: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/api/sessions/${encodeURIComponent(session)}/commands/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** GETs JSON. */
export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}
