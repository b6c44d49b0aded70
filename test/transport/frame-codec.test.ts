// The direct JSON writers of the snapshot and uiEvent frames against the
// reference encoding (the frame message with payloads packed in Any, written
// by toJsonString): both texts must parse to the same ServerFrame.
import { create, createRegistry, equals, fromJsonString, toJsonString, type Message, type Registry } from "@bufbuild/protobuf";
import {
  anyPack,
  DurationSchema,
  EmptySchema,
  StringValueSchema,
  StructSchema,
  TimestampSchema,
  UInt64ValueSchema,
  ValueSchema,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ChatMessageEntitySchema, ChatMessageUpdateSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { ServerFrameSchema, SnapshotFrameSchema } from "../../src/gen/sessionstream/v1/transport_pb.js";
import type { Snapshot, TimelineEntity } from "../../src/index.js";
import { encodeSnapshot, encodeUIEvent, snapshotJson } from "../../src/transport/frame-codec.js";
import { encodeServerFrame, snapshotFrame } from "../../src/transport/index.js";

const registry = createRegistry(
  ChatMessageEntitySchema,
  ChatMessageUpdateSchema,
  TimestampSchema,
  DurationSchema,
  StructSchema,
  ValueSchema,
  StringValueSchema,
  UInt64ValueSchema,
  EmptySchema,
);

function entity(kind: string, id: string, created: bigint, last: bigint, payload: Message, tombstone = false): TimelineEntity {
  return { kind, id, createdOrdinal: created, lastEventOrdinal: last, tombstone, payload };
}

const chat = (text: string, status = "finished") =>
  create(ChatMessageEntitySchema, { messageId: "m", role: "assistant", text, status });

/** The reference encoding: the frame message, payloads packed in Any, written by toJsonString. */
function referenceSnapshot(snapshot: Snapshot, changedAfter: bigint, reg: Registry): string {
  return encodeServerFrame({ case: "snapshot", value: snapshotFrame(snapshot, changedAfter, reg) }, reg).data.toString("utf8");
}

function expectSameFrame(ours: string, reference: string): void {
  // Same JSON value (field order aside) ...
  expect(JSON.parse(ours)).toEqual(JSON.parse(reference));
  // ... and the same message once parsed strictly with transport.proto.
  const a = fromJsonString(ServerFrameSchema, ours, { registry });
  const b = fromJsonString(ServerFrameSchema, reference, { registry });
  expect(equals(ServerFrameSchema, a, b, { registry, unpackAny: true })).toBe(true);
  expect(toJsonString(ServerFrameSchema, a, { registry })).toBe(toJsonString(ServerFrameSchema, b, { registry }));
}

describe("direct frame JSON", () => {
  it("writes a delta snapshot with tombstones exactly as the Any round trip did", () => {
    const snapshot: Snapshot = {
      sessionId: "s-1",
      snapshotOrdinal: 42n,
      entities: [
        entity("ChatMessage", "m1", 1n, 40n, chat('quotes " and \\ and \n and \u2028 and émoji 🎉')),
        entity("ChatMessage", "m2", 3n, 41n, chat(""), true),
        entity("ChatMessage", "m3", 0n, 0n, create(ChatMessageEntitySchema)),
        entity("", "", 5n, 42n, chat("x", "")),
        entity("Clock", "t", 6n, 42n, create(TimestampSchema, { seconds: 1_700_000_000n, nanos: 5_000_000 })),
        entity("Clock", "d", 6n, 42n, create(DurationSchema, { seconds: 3n })),
        entity("Doc", "st", 7n, 42n, create(StructSchema, { fields: { a: create(ValueSchema, { kind: { case: "numberValue", value: 1 } }) } })),
        entity("Doc", "v", 7n, 42n, create(ValueSchema, { kind: { case: "nullValue", value: 0 } })),
        entity("Doc", "str", 8n, 42n, create(StringValueSchema, { value: "wrapped" })),
        entity("Doc", "u64", 8n, 42n, create(UInt64ValueSchema, { value: 18_446_744_073_709_551_615n })),
        entity("Doc", "empty", 9n, 42n, create(EmptySchema), true),
      ],
    };
    const ours = encodeSnapshot(snapshot, 39n, registry).data.toString("utf8");
    expectSameFrame(ours, referenceSnapshot(snapshot, 39n, registry));
    const parsed = JSON.parse(ours) as { snapshot: { entities: Array<Record<string, unknown>>; changedAfterOrdinal: string } };
    expect(parsed.snapshot.changedAfterOrdinal).toBe("39");
    expect(parsed.snapshot.entities[1]).toMatchObject({ tombstone: true });
    expect(parsed.snapshot.entities[0]).not.toHaveProperty("tombstone");
    expect(parsed.snapshot.entities[2]).not.toHaveProperty("createdOrdinal");
    expect(Object.keys(parsed.snapshot.entities[0]!.payload as object)[0]).toBe("@type");
    expect(parsed.snapshot.entities[4]!.payload).toEqual({ "@type": "type.googleapis.com/google.protobuf.Timestamp", value: "2023-11-14T22:13:20.005Z" });
    expect(parsed.snapshot.entities[10]!.payload).toEqual({ "@type": "type.googleapis.com/google.protobuf.Empty" });
    // The HTTP snapshot body is the same SnapshotFrame.
    const body = snapshotJson(snapshot, 39n, registry);
    const reference = toJsonString(SnapshotFrameSchema, snapshotFrame(snapshot, 39n, registry), { registry });
    expect(JSON.parse(body)).toEqual(JSON.parse(reference));
  });

  it("writes full and empty snapshots with the defaults left out", () => {
    const full: Snapshot = { sessionId: "s", snapshotOrdinal: 5n, entities: [entity("ChatMessage", "m1", 1n, 5n, chat("Ordinals order events."))] };
    expectSameFrame(encodeSnapshot(full, 0n, registry).data.toString("utf8"), referenceSnapshot(full, 0n, registry));
    const empty: Snapshot = { sessionId: "new", snapshotOrdinal: 0n, entities: [] };
    const text = encodeSnapshot(empty, 0n, registry).data.toString("utf8");
    expect(text).toBe('{"snapshot":{"sessionId":"new"}}');
    expectSameFrame(text, referenceSnapshot(empty, 0n, registry));
  });

  it("writes uiEvent frames as the Any round trip did", () => {
    const cases: Array<[string, bigint, string, Message]> = [
      ["s", 6n, "ChatMessageAppended", create(ChatMessageUpdateSchema, { messageId: "m1", chunk: "!\"\u0000" })],
      ["s", 7n, "ChatMessageFinished", create(ChatMessageUpdateSchema)],
      ["s", 0n, "", create(TimestampSchema, { seconds: 1n })],
      ["s", 8n, "Tick", create(EmptySchema)],
    ];
    for (const [sessionId, ordinal, name, payload] of cases) {
      const ours = encodeUIEvent(sessionId, ordinal, name, payload, registry);
      const reference = encodeServerFrame(
        { case: "uiEvent", value: { $typeName: "sessionstream.v1.UiEventFrame", sessionId, eventOrdinal: ordinal, name, payload: anyPack(registry.getMessage(payload.$typeName)!, payload) } },
        registry,
      );
      expectSameFrame(ours.data.toString("utf8"), reference.data.toString("utf8"));
      expect(ours.bytes).toBe(ours.data.byteLength);
    }
  });

  it("refuses a payload whose type is not registered", () => {
    const snapshot: Snapshot = { sessionId: "s", snapshotOrdinal: 1n, entities: [entity("X", "x", 1n, 1n, create(TimestampSchema))] };
    expect(() => encodeSnapshot(snapshot, 0n, createRegistry(ChatMessageEntitySchema))).toThrow(/not in the type registry/);
  });
});
