// Integer strings in client frames are read as the reference Go server
// (protojson) reads them: a JSON number token, nothing BigInt() alone takes.
import { afterEach, describe, expect, it } from "vitest";
import { decodeClientFrame } from "../../src/transport/index.js";
import { connect, startHarness, type Harness } from "./helpers.js";

const subscribe = (since: unknown) => JSON.stringify({ subscribe: { sessionId: "s", sinceSnapshotOrdinal: since } });
const sinceOf = (text: string) => {
  const frame = decodeClientFrame(text);
  return frame.frame.case === "subscribe" ? frame.frame.value.sinceSnapshotOrdinal : undefined;
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("integer strings on the wire", () => {
  it.each(["0x10", "0b11", "0o7", " 7", "7 ", "+7", "007", "-1", "7n", "1.5", "", "18446744073709551616"])(
    "refuses %j with bad_client_frame naming the field",
    (since) => {
      expect(() => decodeClientFrame(subscribe(since))).toThrowError(
        expect.objectContaining({ code: "bad_client_frame", message: expect.stringContaining("since_snapshot_ordinal") }),
      );
    },
  );

  it.each([
    ["7", 7n],
    ["0", 0n],
    ["1e2", 100n],
    ["1.0", 1n],
    ["18446744073709551615", 18446744073709551615n],
  ])("reads %j as protojson does", (since, expected) => {
    expect(sinceOf(subscribe(since))).toBe(expected);
  });

  it("reads JSON numbers as before", () => {
    expect(sinceOf(subscribe(7))).toBe(7n);
    expect(sinceOf('{"subscribe":{"session_id":"s","since_snapshot_ordinal":"12"}}')).toBe(12n);
  });

  it("answers a subscribe with since \"0x10\" with an error frame and keeps the connection", async () => {
    h = await startHarness();
    const c = await connect(h.url);
    c.send(subscribe("0x10"));
    const err = await c.nextCase("error");
    expect(err.json).toMatchObject({ error: { code: "bad_client_frame" } });
    expect(h.ws.stats().subscriptions).toBe(0);
    c.subscribe("s");
    await c.nextCase("subscribed");
    c.close();
  });
});

describe("integer strings in HTTP command bodies", () => {
  it('answers 400 invalid_json naming the field for "0x10", and reads "16" and 16', async () => {
    const { Hub, SchemaRegistry } = await import("../../src/index.js");
    const { TypeSchema } = await import("@bufbuild/protobuf/wkt");
    const { createServer } = await import("node:http");
    const { createCommandIngress } = await import("../../src/transport/index.js");
    // google.protobuf.Type: a message with an int32 nested in a repeated field (fields[].number).
    const registry = new SchemaRegistry().registerCommand("Define", TypeSchema);
    const hub = new Hub({ registry });
    const numbers: number[] = [];
    hub.registerCommand("Define", async (cmd) => {
      numbers.push(cmd.payload.fields[0]!.number);
    });
    const ingress = createCommandIngress({ hub });
    const server = createServer((req, res) => void ingress(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as { port: number }).port;
      const post = (number: unknown) =>
        fetch(`http://127.0.0.1:${port}/api/sessions/s/commands/Define`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "t", fields: [{ name: "f", number }] }),
        });
      for (const bad of ["0x10", "+16", "016", " 16"]) {
        const res = await post(bad);
        expect(res.status, bad).toBe(400);
        expect(await res.json()).toMatchObject({ error: { code: "invalid_json", message: expect.stringContaining("google.protobuf.Type.fields[0].number") } });
      }
      expect((await post("16")).status).toBe(202);
      expect((await post(16)).status).toBe(202);
      expect(numbers).toEqual([16, 16]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
