// Fastify 5: the recipe of docs/fastify.md (fixtures/frameworks/fastify-app.ts) against the shared suite.
import type { AddressInfo } from "node:net";
import { createFastifyApp } from "../../../fixtures/frameworks/fastify-app.js";
import { describeMounting } from "./mounting-suite.js";

describeMounting("Fastify 5", async (hub, security) => {
  const { app } = createFastifyApp(hub, security);
  await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    port: (app.server.address() as AddressInfo).port,
    close: () => app.close(),
  };
});
