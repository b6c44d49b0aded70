import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SessionstreamError } from "../runtime/errors.js";

/** Binds the server; a busy port is an error that says what to do instead. */
export async function listen(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((ready, fail) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") {
        fail(new SessionstreamError("invalid_argument", `port ${port} is in use; try --port 0 (a free port) or stop what is listening there`, { cause: err }));
      } else if (err.code === "EACCES") {
        fail(new SessionstreamError("invalid_argument", `no permission to listen on ${host}:${port}; try a port above 1023, or --port 0`, { cause: err }));
      } else if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") {
        fail(new SessionstreamError("invalid_argument", `cannot listen on host ${host}: not an address of this machine; try --host 127.0.0.1`, { cause: err }));
      } else {
        fail(err);
      }
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      ready();
    });
  });
}

/** `http://host:port` of a listening server (IPv6 addresses in brackets). */
export function serverUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  const hostName = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${hostName}:${address.port}`;
}
