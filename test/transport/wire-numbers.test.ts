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
