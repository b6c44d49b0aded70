// The three loopback servers the transport scenarios compare: sessionstream
// (hub + createWebSocketServer), a bare `ws` server and a Socket.IO server.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { Server as SioServer } from "socket.io";
import * as wsModule from "ws";
import { WebSocket, WebSocketServer } from "ws";
import type { Hub, HydrationStore } from "../../src/index.js";
import type { SessionstreamWebSocketServer, TransportLimits } from "../../src/transport/index.js";
import { core, transport } from "./pkg.js";
import { benchRegistry, registerBenchProjections, type BenchSchema } from "./chat-bench.js";

export interface Running {
  readonly url: string;
  close(): Promise<void>;
}

async function listen(http: Server): Promise<number> {
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return (http.address() as AddressInfo).port;
}

async function closeHttp(http: Server): Promise<void> {
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
}

export interface OursServer extends Running {
  readonly hub: Hub<BenchSchema>;
  readonly ws: SessionstreamWebSocketServer;
}

/** The hub (memory store unless given) with the bench projections, and the websocket endpoint at /ws. */
export async function startOurs(
  options: { store?: HydrationStore; ui?: boolean; timeline?: boolean; limits?: Partial<TransportLimits> } = {},
): Promise<OursServer> {
  const hub = new core.Hub<BenchSchema>({ registry: benchRegistry(), store: options.store ?? new core.MemoryHydrationStore() });
  registerBenchProjections(hub, { ui: options.ui ?? true, timeline: options.timeline ?? true });
  const ws = transport.createWebSocketServer({ hub, limits: { heartbeatIntervalMs: 0, ...options.limits } });
  const http = createServer((_req, res) => res.writeHead(404).end());
  ws.attach(http);
  const port = await listen(http);
  return {
    hub,
    ws,
    url: `ws://127.0.0.1:${port}/ws`,
    async close() {
      await ws.close();
      await hub.close();
      await closeHttp(http);
    },
  };
}

export interface BareWsServer extends Running {
  readonly clients: Set<WebSocket>;
  /** Sends the same bytes to every connected client (`ws` frames them once per client). */
  broadcast(data: Buffer | string): void;
  /**
   * Frames `data` once (`Sender.frame`, a text frame) and writes that same
   * buffer to every client's socket, as Socket.IO's adapter does for a
   * broadcast: what an expert writes when one message goes to many sockets.
   */
  broadcastPreFramed(data: Buffer): void;
  /**
   * Corks every client's socket until the end of the tick, so the frames
   * broadcast meanwhile leave each socket in one write (one `writev`): what an
   * expert adds to `broadcastPreFramed` for a burst.
   */
  corkUntilNextTick(): void;
}

/** `ws`'s sender, whose `sendFrame` writes an already built frame (untyped member, used by engine.io too). */
interface FrameSender {
  sendFrame(list: Buffer[], cb?: (err?: Error) => void): void;
}

/** Builds the text frame of `data` once (unmasked, final, no compression). */
export function textFrame(data: Buffer): Buffer[] {
  // `Sender` is exported by ws's ESM entry but missing from @types/ws.
  const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } };
  return Sender.frame(data, { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
}

/** A bare `ws` server: every connection joins one room; broadcast is a loop over `send`. */
export async function startBareWs(): Promise<BareWsServer> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  const clients = new Set<WebSocket>();
  wss.on("connection", (ws) => {
    clients.add(ws);
    ws.on("close", () => clients.delete(ws));
    ws.on("error", () => {});
  });
  const port = await listen(http);
  return {
    url: `ws://127.0.0.1:${port}`,
    clients,
    broadcast(data) {
      for (const c of clients) c.send(data, { binary: false });
    },
    broadcastPreFramed(data) {
      const frame = textFrame(data);
      for (const c of clients) if (c.readyState === WebSocket.OPEN) (c as unknown as { _sender: FrameSender })._sender.sendFrame(frame);
    },
    corkUntilNextTick() {
      const sockets = [...clients].map((c) => (c as unknown as { _socket: Duplex })._socket);
      for (const s of sockets) s.cork();
      process.nextTick(() => {
        for (const s of sockets) s.uncork();
      });
    },
    async close() {
      for (const c of clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await closeHttp(http);
    },
  };
}

export interface SocketIoServer extends Running {
  readonly io: SioServer;
}

/** Socket.IO (websocket transport only); a client joins a room with `emit("join", room, ack)`. */
export async function startSocketIo(): Promise<SocketIoServer> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const io = new SioServer(http, { serveClient: false, transports: ["websocket"], perMessageDeflate: false });
  io.on("connection", (socket) => {
    socket.on("join", (room: string, ack: () => void) => {
      void socket.join(room);
      ack();
    });
  });
  const port = await listen(http);
  return {
    io,
    url: `http://127.0.0.1:${port}`,
    async close() {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      http.closeAllConnections();
    },
  };
}
