// A real server for the React binding tests: the chat hub, the websocket
// server and the command ingress on a loopback http.Server. The websocket
// server can be stopped and started again on the same port (a restart that
// drops every connection), and its snapshots held at a gate.
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket from "ws";
import { createSessionstreamClient, type FetchLike, type SessionstreamClient, type UIReducer, type WebSocketConstructor } from "../../src/transport/client/index.js";
import { createCommandIngress, createWebSocketServer, type SessionstreamWebSocketServer, type TransportRecord, type WebSocketServerOptions } from "../../src/transport/index.js";
import { chatHub } from "../helpers/chat-app.js";
import { GatedStore } from "../transport/helpers.js";

export type ChatJson = { messageId: string; role?: string; text?: string; status?: string; chunk?: string };

/** The client-side mirror of the chat timeline projection, on protobuf JSON payloads. */
export const chatReducer: UIReducer = (draft, ev) => {
  const p = ev.payload as ChatJson;
  const prev = draft.get("ChatMessage", p.messageId)?.payload as ChatJson | undefined;
  switch (ev.name) {
    case "ChatMessageStarted":
      return draft.set("ChatMessage", p.messageId, { messageId: p.messageId, role: "assistant", status: "streaming" });
    case "ChatMessageAppended":
      return draft.set("ChatMessage", p.messageId, { ...prev, messageId: p.messageId, text: (prev?.text ?? "") + (p.chunk ?? "") });
    case "ChatMessageFinished":
      return draft.set("ChatMessage", p.messageId, { ...prev, messageId: p.messageId, status: "finished" });
    case "ChatMessageDeleted":
      return draft.delete("ChatMessage", p.messageId);
  }
};

export interface TestServer {
  readonly hub: ReturnType<typeof chatHub>;
  readonly store: GatedStore;
  readonly http: Server;
  /** The current websocket server (a new one after each restart). */
  ws: SessionstreamWebSocketServer;
  readonly url: string;
  readonly httpUrl: string;
  /** Every transport record of every websocket server so far. */
  readonly records: TransportRecord[];
  /** Frames clients of {@link TestServer.client} sent, parsed. */
  readonly sent: Array<Record<string, unknown>>;
  /** Closes the websocket server (every connection closes with 1001) and leaves the port without one. */
  stopWebSocket(): Promise<void>;
  /** Mounts a new websocket server on the same http server. */
  startWebSocket(): void;
  /** A client with fast reconnects, using the `ws` package and a node:http fetch; closed by `close()`. */
  client(options?: { fetch?: FetchLike }): SessionstreamClient;
  close(): Promise<void>;
}

/** A `fetch` over node:http (the happy-dom environment has its own `fetch`, with browser CORS rules). */
export const nodeFetch: FetchLike = (url, init) =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: init.method, headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: async () => Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });

export async function startServer(options: { authorize?: WebSocketServerOptions["authorize"] } = {}): Promise<TestServer> {
  const store = new GatedStore();
  const hub = chatHub({ store });
  const records: TransportRecord[] = [];
  const sent: Array<Record<string, unknown>> = [];
  const ingress = createCommandIngress({ hub, respond: "completed" });
  const http = createServer((req, res) => {
    void ingress(req, res).then((handled) => {
      if (handled) return;
      res.statusCode = 404;
      res.end();
    });
  });
  const mount = () => {
    const ws = createWebSocketServer({ hub, observer: (r) => records.push(r), ...(options.authorize ? { authorize: options.authorize } : {}) });
    return { ws, detach: ws.attach(http) };
  };
  let current = mount();
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  const clients: SessionstreamClient[] = [];

  /** `ws`'s WebSocket, recording what the client sends. */
  class RecordingWebSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      sent.push(JSON.parse(String(data)) as Record<string, unknown>);
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }

  const server: TestServer = {
    hub,
    store,
    http,
    ws: current.ws,
    url: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}/api`,
    records,
    sent,
    async stopWebSocket() {
      current.detach();
      await current.ws.close();
    },
    startWebSocket() {
      current = mount();
      server.ws = current.ws;
    },
    client(options = {}) {
      const c = createSessionstreamClient({
        url: server.url,
        WebSocket: RecordingWebSocket as unknown as WebSocketConstructor,
        fetch: options.fetch ?? nodeFetch,
        reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients.splice(0)) c.close();
      store.release();
      current.detach();
      await current.ws.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  return server;
}

/** The server's timeline as the client holds it without a decoder: protobuf JSON payloads, no type names. */
export async function serverEntities(server: TestServer, sessionId: string) {
  const snap = await server.hub.snapshot(sessionId);
  return snap.entities.map((e) => ({
    kind: e.kind,
    id: e.id,
    createdOrdinal: e.createdOrdinal,
    lastEventOrdinal: e.lastEventOrdinal,
    payload: server.hub.registry.toJson("entities", e.kind, e.payload),
  }));
}

/** Records of one type for one session. */
export function recordsOf(server: TestServer, type: TransportRecord["type"], sessionId: string): TransportRecord[] {
  return server.records.filter((r) => r.type === type && r.sessionId === sessionId);
}

/** Subscribe frames a client sent for a session. */
export function subscribesSent(server: TestServer, sessionId: string): number {
  return server.sent.filter((f) => (f.subscribe as { sessionId?: string } | undefined)?.sessionId === sessionId).length;
}
