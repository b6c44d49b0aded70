// Well-known-type payloads through the browser client, and frames the client
// cannot handle: reported to onError, never thrown out of the socket handler,
// never leaving a view in `hydrating`.
import { create, createRegistry, equals, isMessage, type JsonValue, type Message } from "@bufbuild/protobuf";
import {
  anyPack,
  AnySchema,
  DurationSchema,
  EmptySchema,
  ListValueSchema,
  StringValueSchema,
  StructSchema,
  TimestampSchema,
  UInt64ValueSchema,
  ValueSchema,
  type Timestamp,
} from "@bufbuild/protobuf/wkt";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createPayloadDecoder, Hub, SchemaRegistry, type SessionstreamError } from "../../src/index.js";
import {
  createSessionstreamClient,
  type ClientUIEvent,
  type PayloadDecoder,
  type SessionstreamClient,
  type WebSocketConstructor,
} from "../../src/transport/client/index.js";
import { encodeUIEvent } from "../../src/transport/frame-codec.js";
import { startHarness, until, type Harness } from "./helpers.js";

/** An app whose every payload is a well-known type: a StringValue UI event and a Timestamp entity. */
function wktHub() {
  const registry = new SchemaRegistry()
    .registerCommand("Stamp", StringValueSchema)
    .registerEvent("Stamped", StringValueSchema)
    .registerUIEvent("StampShown", StringValueSchema)
    .registerTimelineEntity("Stamp", TimestampSchema);
  const hub = new Hub({ registry });
  hub.registerCommand("Stamp", async (cmd, _session, pub) => {
    await pub.publish("Stamped", create(StringValueSchema, { value: cmd.payload.value }));
  });
  hub.registerUIProjection((ev) => [{ name: "StampShown", payload: create(StringValueSchema, { value: ev.payload.value }) }]);
  hub.registerTimelineProjection((ev) => [
    { kind: "Stamp", id: ev.payload.value, payload: create(TimestampSchema, { seconds: 1_700_000_000n + ev.ordinal, nanos: 5_000_000 }) },
  ]);
  return hub;
}

let h: Harness | undefined;
const clients: SessionstreamClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h?.close();
  h = undefined;
});

function client(options: Partial<Parameters<typeof createSessionstreamClient>[0]> = {}): SessionstreamClient {
  const c = createSessionstreamClient({
    url: h!.url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    ...options,
  });
  clients.push(c);
  return c;
}

describe("createPayloadDecoder", () => {
  it("decodes well-known types from the `value` of their Any JSON", () => {
    const decoder = createPayloadDecoder(wktHub().registry.typeRegistry);
    const s = decoder.decode("google.protobuf.StringValue", { value: "hi" });
    expect(isMessage(s, StringValueSchema) && s.value).toBe("hi");
    const t = decoder.decode("google.protobuf.Timestamp", { value: "2023-11-14T22:13:21.005Z" }) as Timestamp;
    expect(isMessage(t, TimestampSchema) && [t.seconds, t.nanos]).toEqual([1_700_000_001n, 5_000_000]);
  });

  it("decodes every well-known type the server writes (each through the server's own Any JSON)", () => {
    const registry = createRegistry(DurationSchema, EmptySchema, StructSchema, ValueSchema, ListValueSchema, UInt64ValueSchema, AnySchema, StringValueSchema);
    const decoder = createPayloadDecoder(registry);
    const cases: Message[] = [
      create(DurationSchema, { seconds: 3n, nanos: 1000 }),
      create(EmptySchema),
      create(StructSchema, { fields: { a: create(ValueSchema, { kind: { case: "numberValue", value: 1 } }) } }),
      create(UInt64ValueSchema, { value: 18446744073709551615n }),
      anyPack(StringValueSchema, create(StringValueSchema, { value: "inner" })),
    ];
    for (const message of cases) {
      // The server's frame JSON for the payload, as the client's wire decoder splits it.
      const frame = JSON.parse(encodeUIEvent("s", 1n, "n", message, registry).data.toString()) as { uiEvent: { payload: Record<string, JsonValue> } };
      const { ["@type"]: typeUrl, ...json } = frame.uiEvent.payload;
      const typeName = String(typeUrl).slice(String(typeUrl).lastIndexOf("/") + 1);
      const decoded = decoder.decode(typeName, json as never) as Message;
      const schema = registry.getMessage(typeName)!;
      expect(equals(schema, decoded, message, { registry, unpackAny: true }), typeName).toBe(true);
    }
  });

  it("gives typed well-known-type entities and UI events to a client, snapshot and live", async () => {
    h = await startHarness({ hub: wktHub() as never });
    await h.hub.submit("s", "Stamp" as never, create(StringValueSchema, { value: "a" }) as never);
    const errors: SessionstreamError[] = [];
    const c = client({ registry: createPayloadDecoder(h.hub.registry.typeRegistry), onError: (e) => errors.push(e) });
    const view = c.subscribe("s");
    const live: ClientUIEvent[] = [];
    view.onUIEvent((e) => live.push(e));
    await until(() => view.getSnapshot().status === "live");
    const a = view.get("Stamp", "a")!;
    expect(isMessage(a.payload, TimestampSchema) && a.payload.seconds).toBe(1_700_000_001n);
    expect(a.typeName).toBe("google.protobuf.Timestamp");

    await h.hub.submit("s", "Stamp" as never, create(StringValueSchema, { value: "b" }) as never);
    await until(() => live.length === 1);
    expect(isMessage(live[0]!.payload, StringValueSchema) && live[0]!.payload.value).toBe("b");
    expect(errors).toEqual([]);
  });
});

describe("a frame the client cannot handle", () => {
  it("goes to onError and puts the view in status error (not hydrating); a reconnect starts it over from a full snapshot", async () => {
    h = await startHarness({ hub: wktHub() as never });
    await h.hub.submit("s", "Stamp" as never, create(StringValueSchema, { value: "a" }) as never);
    let broken = true;
    const real = createPayloadDecoder(h.hub.registry.typeRegistry);
    const decoder: PayloadDecoder = {
      decode(typeName, json) {
        if (broken) throw new Error(`no decoder for ${typeName}`);
        return real.decode(typeName, json);
      },
    };
    const errors: SessionstreamError[] = [];
    const c = client({ registry: decoder, onError: (e) => errors.push(e) });
    const view = c.subscribe("s");
    await until(() => view.getSnapshot().status === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('snapshot frame of session "s"');
    expect(errors[0]!.message).toContain("no decoder for google.protobuf.Timestamp");
    expect(view.getSnapshot().error).toMatchObject({ code: "internal" });
    expect(view.getSnapshot().entities.size).toBe(0);
    // Live frames meanwhile are ignored (the view stays in error, no flood of reports).
    await h.hub.submit("s", "Stamp" as never, create(StringValueSchema, { value: "b" }) as never);
    await new Promise((r) => setTimeout(r, 100));
    expect(view.getSnapshot().status).toBe("error");
    expect(errors).toHaveLength(1);

    broken = false;
    c.reconnect();
    await until(() => view.getSnapshot().status === "live");
    expect([...view.getSnapshot().entities.get("Stamp")!.keys()].sort()).toEqual(["a", "b"]);
  });

  it("a reducer that throws on a live event is reported the same way", async () => {
    h = await startHarness({ hub: wktHub() as never });
    const errors: SessionstreamError[] = [];
    const c = client({ onError: (e) => errors.push(e) });
    const view = c.subscribe("s", {
      reduce: () => {
        throw new Error("reducer bug");
      },
    });
    await until(() => view.getSnapshot().status === "live");
    await h.hub.submit("s", "Stamp" as never, create(StringValueSchema, { value: "a" }) as never);
    await until(() => view.getSnapshot().status === "error");
    expect(errors[0]!.message).toMatch(/uiEvent frame of session "s": reducer bug/);
  });
});
