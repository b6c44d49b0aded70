import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  BoolValueSchema,
  DoubleValueSchema,
  DurationSchema,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  StringValueSchema,
  TypeSchema,
  ValueSchema,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, test } from "vitest";
import { Hub, SchemaRegistry, SessionstreamError, type HydrationStore } from "../../src/index.js";
import { checkPayload } from "../../src/runtime/payload-check.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";

async function rejection(p: Promise<unknown>): Promise<SessionstreamError> {
  try {
    await p;
  } catch (err) {
    return err as SessionstreamError;
  }
  throw new Error("expected a rejection");
}

function wktRegistry() {
  return new SchemaRegistry()
    .registerEvent("TypeDefined", TypeSchema)
    .registerEvent("Note", StringValueSchema)
    .registerTimelineEntity("Type", TypeSchema);
}

function wktHub(store?: HydrationStore) {
  const hub = new Hub({ registry: wktRegistry(), ...(store ? { store } : {}), onError: () => {} });
  hub.registerTimelineProjection((ev) =>
    ev.name === "TypeDefined" ? [{ kind: "Type", id: (ev.payload as { name: string }).name, payload: ev.payload }] : [],
  );
  return hub;
}

describe("payloads are validated at every depth", () => {
  test("an unknown nested field is rejected with its path, and nothing is applied", async () => {
    const hub = wktHub();
    const err = await rejection(
      hub.publisher("s").publish("TypeDefined", { name: "t", sourceContext: { fileName: "f", bogus: 1 } } as never),
    );
    expect(err).toBeInstanceOf(SessionstreamError);
    expect(err.code).toBe("payload_type_mismatch");
    expect(err.message).toBe(
      'event "TypeDefined" (payload type google.protobuf.Type): field sourceContext.bogus: no such field in google.protobuf.SourceContext',
    );
    expect(await hub.cursor("s")).toBe(0n);
  });

  test("a wrong scalar type is rejected, in an init object and in a created message", async () => {
    const hub = wktHub();
    const fromInit = await rejection(hub.publisher("s").publish("Note", { value: 123 } as never));
    expect(fromInit.code).toBe("payload_type_mismatch");
    expect(fromInit.message).toContain("field value: expected a string, got number 123");
    const fromMessage = await rejection(hub.publisher("s").publish("Note", create(StringValueSchema, { value: 123 as never })));
    expect(fromMessage.code).toBe("payload_type_mismatch");
    expect(await hub.cursor("s")).toBe(0n);
  });

  test("a message of another type in a message field is rejected, not replaced by an empty one", async () => {
    const hub = wktHub();
    const err = await rejection(
      hub.publisher("s").publish("TypeDefined", { name: "t", sourceContext: create(DurationSchema, { seconds: 5n }) } as never),
    );
    expect(err.code).toBe("payload_type_mismatch");
    expect(err.message).toContain(
      "field sourceContext: expected a google.protobuf.SourceContext message, got a google.protobuf.Duration message",
    );
  });

  test("list items, enums, oneofs and 64-bit fields are checked with their paths", () => {
    expect(checkPayload(TypeSchema, { fields: [{ name: "a" }, { name: 7 }] })).toBe("field fields[1].name: expected a string, got number 7");
    expect(checkPayload(TypeSchema, { syntax: "proto3" })).toBe(
      'field syntax: expected a google.protobuf.Syntax value (an integer), got the string "proto3"',
    );
    // proto2 enums are closed: unknown numbers are rejected
    expect(checkPayload(FieldDescriptorProtoSchema, { type: 99 })).toBe(
      "field type: 99 is not a value of the closed enum google.protobuf.FieldDescriptorProto.Type",
    );
    expect(checkPayload(FieldDescriptorProtoSchema, { type: FieldDescriptorProto_Type.STRING })).toBeUndefined();
    expect(checkPayload(ValueSchema, { kind: { case: "stringValue", value: 1 } })).toBe(
      "field kind.value: expected a string, got number 1",
    );
    expect(checkPayload(ValueSchema, { kind: { case: "nope", value: 1 } })).toContain('the string "nope" is not a case of oneof kind');
    expect(checkPayload(DurationSchema, { seconds: 5 })).toBe("field seconds: expected an int64 (a bigint), got number 5");
    expect(checkPayload(DurationSchema, { seconds: 2n ** 63n })).toBe(`field seconds: ${2n ** 63n} is out of range for an int64`);
    expect(checkPayload(ValueSchema, { kind: { case: "structValue", value: { fields: { a: { kind: { case: "boolValue", value: "yes" } } } } } })).toBe(
      'field kind.value.fields["a"].kind.value: expected a boolean, got the string "yes"',
    );
    expect(checkPayload(TypeSchema, { name: "t", fields: [{ name: "a", number: 1 }], sourceContext: { fileName: "f" } })).toBeUndefined();
  });

  test("messages of an already checked shape are still checked field by field", () => {
    const good = create(DurationSchema, { seconds: 1n, nanos: 2 });
    expect(checkPayload(DurationSchema, good)).toBeUndefined();
    expect(checkPayload(DurationSchema, create(DurationSchema, { seconds: 3n }))).toBeUndefined();
    expect(checkPayload(DurationSchema, { ...create(DurationSchema), seconds: 1 as never })).toBe("field seconds: expected an int64 (a bigint), got number 1");
    const mutated = create(DurationSchema, { seconds: 1n });
    (mutated as { nanos: unknown }).nanos = "2";
    expect(checkPayload(DurationSchema, mutated)).toBe('field nanos: expected an int32 (an integer number), got the string "2"');
    expect(checkPayload(DurationSchema, Object.assign(create(DurationSchema), { extra: 1 }))).toBe("field extra: no such field in google.protobuf.Duration");
    // Own keys only: an enumerable key on the prototype is not checked as a field.
    expect(checkPayload(DurationSchema, Object.assign(Object.create({ inherited: 1 }), create(DurationSchema, { seconds: 1n })))).toBeUndefined();
    expect(checkPayload(StringValueSchema, create(StringValueSchema, { value: "a" }))).toBeUndefined();
    expect(checkPayload(StringValueSchema, create(StringValueSchema, { value: 5 as never }))).toBe("field value: expected a string, got number 5");
  });

  test("messages of a learned shape of plain fields (string, bool, double) are still checked field by field", () => {
    for (const [schema, good, wrong, problem] of [
      [StringValueSchema, "a", 5, "field value: expected a string, got number 5"],
      [BoolValueSchema, true, "yes", 'field value: expected a boolean, got the string "yes"'],
      [DoubleValueSchema, 1.5, 2n, "field value: expected a number, got bigint 2"],
    ] as const) {
      // The first valid message teaches the checker its type's shape; the checks below run on that shape.
      expect(checkPayload(schema, create(schema as never, { value: good } as never))).toBeUndefined();
      expect(checkPayload(schema, create(schema as never, { value: good } as never))).toBeUndefined();
      expect(checkPayload(schema, create(schema as never, { value: wrong } as never))).toBe(problem);
      const mutated = create(schema as never, { value: good } as never) as { value: unknown };
      mutated.value = wrong;
      expect(checkPayload(schema, mutated as never)).toBe(problem);
      expect(checkPayload(schema, Object.assign(create(schema as never, { value: good } as never), { extra: 1 }))).toBe(
        `field extra: no such field in ${schema.typeName}`,
      );
      const emptied = create(schema as never, { value: good } as never) as { value?: unknown };
      delete emptied.value;
      expect(checkPayload(schema, emptied as never)).toBeUndefined();
      expect(checkPayload(schema, Object.assign(Object.create({ inherited: 1 }), create(schema as never, { value: good } as never)))).toBeUndefined();
    }
  });

  test("projection outputs are checked too: a bad entity payload fails the publish", async () => {
    const hub = new Hub({ registry: wktRegistry(), onError: () => {} });
    hub.registerTimelineProjection(() => [{ kind: "Type", id: "x", payload: { name: "x", sourceContext: { bogus: true } } as never }]);
    const err = await rejection(hub.publisher("s").publish("TypeDefined", { name: "x" }));
    expect(err.message).toContain("sourceContext.bogus");
    expect(await hub.cursor("s")).toBe(0n);
  });

  test("the memory and SQLite stores keep the same payload", async () => {
    const payload = { name: "t", fields: [{ name: "a", number: 3 }], sourceContext: { fileName: "f.proto" } };
    const snaps = [];
    for (const store of [undefined, new SqliteHydrationStore({ path: ":memory:" })]) {
      const hub = wktHub(store);
      await hub.publisher("s").publish("TypeDefined", payload);
      snaps.push((await hub.snapshot("s")).entities[0]!.payload);
    }
    const [memory, sqlite] = snaps.map((p) => fromBinary(TypeSchema, toBinary(TypeSchema, p as never)));
    expect(memory).toEqual(sqlite);
    expect(snaps[0]).toEqual(snaps[1]);
  });
});
