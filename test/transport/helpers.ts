// Loopback harness for transport tests: a real http.Server on 127.0.0.1,
// the websocket server mounted on it, and a raw client that records every
// frame, parsed strictly with the transport.proto schema.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fromJsonString, type JsonObject } from "@bufbuild/protobuf";
import WebSocket from "ws";
import { ServerFrameSchema, type ServerFrame } from "../../src/gen/sessionstream/v1/transport_pb.js";
import { MemoryHydrationStore, type Snapshot, type SnapshotOptions } from "../../src/index.js";
import { createWebSocketServer, type WebSocketServerOptions, type SessionstreamWebSocketServer, type TransportRecord } from "../../src/transport/index.js";
import { chatHub, type ChatAppOptions } from "../helpers/chat-app.js";
import { until as waitUntil } from "../helpers/until.js";

export interface Harness {
  readonly hub: ReturnType<typeof chatHub>;
  readonly ws: SessionstreamWebSocketServer;
  readonly http: Server;
  readonly url: string;
  readonly records: TransportRecord[];
  close(): Promise<void>;
}

export async function startHarness(
  opts: { app?: ChatAppOptions; server?: Partial<WebSocketServerOptions>; hub?: ReturnType<typeof chatHub> } = {},
): Promise<Harness> {
  const hub = opts.hub ?? chatHub(opts.app);
  const records: TransportRecord[] = [];
  const ws = createWebSocketServer({ hub, observer: (r) => records.push(r), ...opts.server });
  const http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  ws.attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    hub,
    ws,
    http,
    url: `ws://127.0.0.1:${port}${ws.path}`,
    records,
    async close() {
      await ws.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A frame as received: the raw JSON and the strictly parsed protobuf message. */
export interface Received {
  readonly json: JsonObject;
  readonly frame: ServerFrame;
}

/** A raw websocket client that records frames and lets a test wait for them. */
export class TestSocket {
  readonly ws: WebSocket;
  readonly frames: Received[] = [];
  closeCode: number | undefined;
  closeReason = "";
  readonly #waiters: Array<() => void> = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string, options: WebSocket.ClientOptions = {}, registry = chatHub().registry.typeRegistry) {
    this.ws = new WebSocket(url, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once("close", (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.#wake();
        resolve(code);
      });
    });
    this.ws.on("error", () => {});
    this.ws.on("message", (data) => {
      const text = data.toString();
      // Strict parse: unknown fields or wrong types fail the test.
      this.frames.push({ json: JSON.parse(text) as JsonObject, frame: fromJsonString(ServerFrameSchema, text, { registry }) });
      this.#wake();
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  subscribe(sessionId: string, since?: bigint): void {
    this.send({ subscribe: { sessionId, ...(since ? { sinceSnapshotOrdinal: since.toString() } : {}) } });
  }

  /** Waits until a frame after index `from` matches; returns it. */
  async next(match: (r: Received) => boolean, from = 0, timeoutMs = 5000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) before the frame arrived; got ${this.cases().join(",")}`);
      if (Date.now() > deadline) throw new Error(`timed out; frames so far: ${this.cases().join(",")}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  nextCase(kind: ServerFrame["frame"]["case"], from = 0): Promise<Received> {
    return this.next((r) => r.frame.frame.case === kind, from);
  }

  cases(): string[] {
    return this.frames.map((f) => f.frame.frame.case ?? "none");
  }

  close(): void {
    this.ws.terminate();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

export async function connect(url: string, options?: WebSocket.ClientOptions): Promise<TestSocket> {
  const s = new TestSocket(url, options);
  await s.opened;
  await s.nextCase("hello");
  return s;
}

/** A memory store whose snapshots can be held at a gate, to widen the hydration race on purpose. */
export class GatedStore extends MemoryHydrationStore {
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  /** Resolves each time a snapshot call starts waiting at the gate. */
  waiting = 0;
  /**
   * Read the snapshot first, then wait at the gate: the snapshot handed over
   * is older than what was published meanwhile (default: wait, then read).
   */
  readBeforeGate = false;

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  override async snapshot(sessionId: string, options?: SnapshotOptions): Promise<Snapshot> {
    const early = this.readBeforeGate ? await super.snapshot(sessionId, options) : undefined;
    if (this.#gate) {
      this.waiting++;
      await this.#gate;
    }
    return early ?? super.snapshot(sessionId, options);
  }
}

export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  await waitUntil(() => cond() || undefined, "a transport condition", timeoutMs);
}
