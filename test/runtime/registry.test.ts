import { create } from "@bufbuild/protobuf";
import { anyPack, anyUnpack, ListValueSchema, StructSchema, ValueSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, test } from "vitest";
import { SchemaRegistry, SessionstreamError } from "../../src/index.js";
import {
  ChatMessageUpdateSchema,
  StartInferenceCommandSchema,
  ToolCallEventSchema,
} from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { chatRegistry } from "../helpers/chat-app.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SessionstreamError);
    return (err as SessionstreamError).code;
  }
  return undefined;
}

describe("SchemaRegistry", () => {
  test("registers four families and looks them up by logical name", () => {
    const reg = chatRegistry();
    expect(reg.lookup("commands", "ChatStartInference")).toBe(StartInferenceCommandSchema);
    expect(reg.names("uiEvents")).toEqual(["ChatMessageStarted", "ChatMessageAppended", "ChatMessageFinished", "ChatMessageDeleted"]);
    expect(reg.lookup("entities", "ChatMessage")?.typeName).toBe("chat.v1.ChatMessageEntity");
    expect(reg.lookup("events", "Nope")).toBeUndefined();
  });

  test("one message type may serve several UI event names", () => {
    const reg = chatRegistry();
    const schemas = new Set(reg.entries("uiEvents").map(([, s]) => s));
    expect(schemas).toEqual(new Set([ChatMessageUpdateSchema]));
  });

  test("rejects empty names", () => {
    expect(() => new SchemaRegistry().registerCommand("", StartInferenceCommandSchema)).toThrow("command name must be a non-empty string");
    expect(codeOf(() => new SchemaRegistry().registerEvent("  ", StartInferenceCommandSchema))).toBe("empty_name");
  });

  test("rejects duplicates within a family, allows the same name across families", () => {
    const reg = new SchemaRegistry().registerCommand("X", StartInferenceCommandSchema);
    expect(() => reg.registerCommand("X", ChatMessageUpdateSchema)).toThrow(
      'command "X" is already registered (to chat.v1.StartInferenceCommand); logical names must be unique within a family',
    );
    expect(() => reg.registerEvent("X", StartInferenceCommandSchema)).not.toThrow();
  });

  test.each([
    ["Struct", StructSchema],
    ["Value", ValueSchema],
    ["ListValue", ListValueSchema],
  ])("rejects top-level google.protobuf.%s with what to do instead", (name, schema) => {
    let err: unknown;
    try {
      new SchemaRegistry().registerEvent("Untyped", schema);
    } catch (e) {
      err = e;
    }
    expect((err as SessionstreamError).code).toBe("top_level_struct");
    expect((err as Error).message).toBe(
      `event "Untyped" uses google.protobuf.${name} as its top-level payload; define a concrete message with typed fields instead (a Struct field inside a concrete message is fine)`,
    );
  });

  test("a Struct field inside a concrete message is allowed", () => {
    expect(() => new SchemaRegistry().registerEvent("ToolCall", ToolCallEventSchema)).not.toThrow();
  });

  test("rejects a non-schema argument", () => {
    expect(() => new SchemaRegistry().registerCommand("X", undefined as never)).toThrow(
      'command "X": expected a message schema (a DescMessage / GenMessage from protoc-gen-es), got undefined',
    );
  });

  test("decodes and encodes protobuf JSON by logical name", () => {
    const reg = chatRegistry();
    const msg = reg.fromJson("commands", "ChatStartInference", { prompt: "hi" });
    expect(msg.$typeName).toBe("chat.v1.StartInferenceCommand");
    expect(reg.toJson("commands", "ChatStartInference", msg)).toEqual({ prompt: "hi" });
  });

  test("JSON errors name the type and the problem", () => {
    const reg = chatRegistry();
    let err: SessionstreamError | undefined;
    try {
      reg.fromJson("commands", "ChatStartInference", { promt: "hi" });
    } catch (e) {
      err = e as SessionstreamError;
    }
    expect(err?.code).toBe("invalid_json");
    expect(err?.message).toMatch(/^invalid chat\.v1\.StartInferenceCommand JSON for command "ChatStartInference": .*promt/);
    expect(codeOf(() => reg.fromJson("commands", "Nope", {}))).toBe("unknown_command");
  });

  test("unknown names list what is registered", () => {
    expect(() => chatRegistry().require("commands", "ChatStart")).toThrow(
      'unknown command "ChatStart" (registered: ChatStartInference, ChatStopInference)',
    );
    expect(() => new SchemaRegistry().require("entities", "X")).toThrow('unknown timeline entity "X" (no timeline entity names are registered)');
  });

  test("type registry packs and unpacks google.protobuf.Any", () => {
    const reg = chatRegistry();
    const any = anyPack(ChatMessageUpdateSchema, create(ChatMessageUpdateSchema, { messageId: "m1", chunk: "x" }));
    expect(any.typeUrl).toBe("type.googleapis.com/chat.v1.ChatMessageUpdate");
    const back = anyUnpack(any, reg.typeRegistry);
    expect(back?.$typeName).toBe("chat.v1.ChatMessageUpdate");
    expect((back as unknown as { chunk: string }).chunk).toBe("x");
  });

  test("binary round trip by type name (what stores use)", () => {
    const reg = chatRegistry();
    const msg = create(StartInferenceCommandSchema, { prompt: "p" });
    const back = reg.decodeBinary(msg.$typeName, reg.encodeBinary(msg));
    expect(back).toEqual(msg);
  });
});
