// Typed resume on the HTTP snapshot endpoint: `?since=N&epoch=E` answers
// recovered (delta), snapshot (full) or reset (the epoch changed), with the
// snapshot's epoch; a plain GET keeps the reference body.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fromJsonString } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { ResumeKind, SnapshotFrameSchema } from "../../src/gen/sessionstream/v1/transport_pb.js";
import { createCommandIngress } from "../../src/transport/index.js";
import { chatHub } from "../helpers/chat-app.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function start() {
  const hub = chatHub();
  const ingress = createCommandIngress({ hub });
  server = createServer((req, res) => void ingress(req, res));
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/sessions/s/snapshot`;
  async function get(query: string) {
    const res = await fetch(base + query);
    const text = await res.text();
    return { status: res.status, json: JSON.parse(text) as Record<string, unknown>, frame: res.ok ? fromJsonString(SnapshotFrameSchema, text, { registry: hub.registry.typeRegistry }) : undefined };
  }
  return { hub, get };
}

describe("HTTP snapshot typed resume", () => {
  it("answers ?since=N&epoch=E with recovered, snapshot or reset and the epoch", async () => {
    const t = await start();
    await t.hub.submit("s", "ChatStartInference", { prompt: "a" }); // m1: 1..5
    await t.hub.submit("s", "ChatStartInference", { prompt: "b" }); // m2: 6..10

    const plain = await t.get("");
    expect(Object.keys(plain.json)).toEqual(["sessionId", "snapshotOrdinal", "entities"]);

    const first = await t.get("?epoch=0");
    expect(first.json).toMatchObject({ epoch: "1", resume: "RESUME_KIND_SNAPSHOT" });

    const recovered = (await t.get("?since=5&epoch=1")).frame!;
    expect([recovered.resume, recovered.epoch, recovered.changedAfterOrdinal, recovered.entities.map((e) => e.id)]).toEqual([
      ResumeKind.RECOVERED,
      1n,
      5n,
      ["m2"],
    ]);

    await t.hub.rebuildTimeline("s");
    const reset = (await t.get("?since=10&epoch=1")).frame!;
    expect([reset.resume, reset.epoch, reset.changedAfterOrdinal, reset.entities.map((e) => e.id)]).toEqual([ResumeKind.RESET, 2n, 0n, ["m1", "m2"]]);
    // Without an epoch a resume point is taken to be in the first epoch.
    expect((await t.get("?since=10")).frame!.resume).toBe(ResumeKind.RESET);
    const again = (await t.get("?since=10&epoch=2")).frame!;
    expect([again.resume, again.epoch, again.entities.length]).toEqual([ResumeKind.RECOVERED, 2n, 0]);

    expect((await t.get("?since=5&epoch=x")).json).toMatchObject({ error: { code: "invalid_argument" } });
    // Like the wire's integer strings: no leading zeros, signs or spaces.
    for (const bad of ["?since=005", "?since=%2B5", "?since=%205", "?since=5&epoch=01"]) {
      expect((await t.get(bad)).json, bad).toMatchObject({ error: { code: "invalid_argument" } });
    }
  });
});
