// Parent side of swarm-child.ts: spawn, send a request, await the reply.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { SwarmReply, SwarmRequest } from "./swarm-child.js";

const CHILD = fileURLToPath(new URL("./swarm-child.ts", import.meta.url));

export class Swarm {
  readonly #child: ChildProcess;
  readonly #waiters: Array<{ match: (r: SwarmReply) => boolean; resolve: (r: SwarmReply) => void; reject: (e: Error) => void }> = [];

  constructor() {
    this.#child = fork(CHILD, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.#child.on("message", (raw) => {
      const msg = raw as SwarmReply;
      if (msg.op === "error") {
        for (const w of this.#waiters.splice(0)) w.reject(new Error(`swarm child: ${msg.message}`));
        return;
      }
      const i = this.#waiters.findIndex((w) => w.match(msg));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(msg);
    });
    this.#child.on("exit", (code) => {
      for (const w of this.#waiters.splice(0)) w.reject(new Error(`swarm child exited with ${code}`));
    });
  }

  /** Sends `req` and resolves with the first reply `match` accepts. */
  request<R extends SwarmReply>(req: SwarmRequest, match: (r: SwarmReply) => r is R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#waiters.push({ match, resolve: resolve as (r: SwarmReply) => void, reject });
      this.#child.send(req);
    });
  }

  /** Registers interest in a reply before triggering it some other way. */
  next<R extends SwarmReply>(match: (r: SwarmReply) => r is R): Promise<R> {
    return new Promise<R>((resolve, reject) => this.#waiters.push({ match, resolve: resolve as (r: SwarmReply) => void, reject }));
  }

  connect(group: string, kind: "ws" | "ours" | "sio", url: string, n: number, session: string): Promise<unknown> {
    return this.request({ op: "connect", group, kind, url, n, session }, (r): r is Extract<SwarmReply, { op: "connected" }> => r.op === "connected" && r.group === group);
  }

  async close(): Promise<void> {
    if (this.#child.connected) {
      await this.request({ op: "close" }, (r): r is Extract<SwarmReply, { op: "closed" }> => r.op === "closed");
      this.#child.disconnect();
    }
    if (this.#child.exitCode === null) await new Promise((resolve) => this.#child.once("exit", resolve));
  }
}

export type DoneOrTimeout = Extract<SwarmReply, { op: "done" | "timeout" }>;
export const isDoneOrTimeout = (group: string) => (r: SwarmReply): r is DoneOrTimeout => (r.op === "done" || r.op === "timeout") && r.group === group;
export const isReady = (group: string) => (r: SwarmReply): r is Extract<SwarmReply, { op: "ready" }> => r.op === "ready" && r.group === group;
export const isLatency = (group: string) => (r: SwarmReply): r is Extract<SwarmReply, { op: "latency" }> => r.op === "latency" && r.group === group;
