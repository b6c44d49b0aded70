// A TCP proxy to a real server that a test can cut (every connection killed,
// new ones refused) and restore, to simulate a network failure.
import { connect, createServer, type Server, type Socket } from "node:net";

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export interface TcpProxy {
  readonly port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function tcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const port = await closedPort();
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("error", () => {});
          s.on("close", () => {
            sockets.delete(s);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, "127.0.0.1", resolve);
    });
  await listen();
  return {
    port,
    async cut() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server!.close(r));
    },
    restore: listen,
    async close() {
      for (const s of sockets) s.destroy();
      if (server?.listening) await new Promise((r) => server!.close(r));
    },
  };
}
