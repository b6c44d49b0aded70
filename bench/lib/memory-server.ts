// Child process for the memory scenario: one websocket server (ours or a
// bare `ws` server with the same subscribe handshake), measured after
// forced GCs. argv[2] = "ours" | "ws". Reports its port, then answers
// `measure` with process.memoryUsage().
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { startOurs } from "./servers.js";

const kind = process.argv[2];
const gc = (globalThis as { gc?: () => void }).gc;

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage();
}

async function startBare(): Promise<string> {
  const rooms = new Map<string, Set<WebSocket>>();
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on("connection", (ws) => {
    ws.on("message", (data) => {
      const sessionId = (JSON.parse(data.toString()) as { subscribe: { sessionId: string } }).subscribe.sessionId;
      let room = rooms.get(sessionId);
      if (!room) rooms.set(sessionId, (room = new Set()));
      room.add(ws);
      ws.send(JSON.stringify({ subscribed: { sessionId } }));
    });
    ws.on("close", () => {
      for (const room of rooms.values()) room.delete(ws);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

const url = kind === "ours" ? (await startOurs()).url : await startBare();
// The parent warms the code paths with one throw-away connection before the
// "before" reading, for both kinds alike.
process.send?.({ op: "listening", url });
process.on("message", (msg: { op: string }) => {
  if (msg.op === "measure") process.send?.({ op: "memory", usage: settle() });
});
process.on("disconnect", () => process.exit(0));
