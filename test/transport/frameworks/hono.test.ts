// Hono on Node: the recipe of docs/hono.md (fixtures/frameworks/hono-app.ts) against the shared suite.
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serveHonoApp } from "../../../fixtures/frameworks/hono-app.js";
import { describeMounting } from "./mounting-suite.js";

describeMounting("Hono on Node (@hono/node-server)", async (hub, security) => {
  const { server, ws } = serveHonoApp(hub, { port: 0, hostname: "127.0.0.1" }, security);
  const http = server as Server; // serve() without createServer options: a node http server
  if (!http.listening) await once(http, "listening");
  return {
    port: (http.address() as AddressInfo).port,
    async close() {
      await ws.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
});
