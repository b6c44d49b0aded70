// The payload check behind `schema-vet --store`: wire types compared field by
// field (nested messages included), where fromBinary alone reads garbage.
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compileProtos } from "../../src/codegen/compile-protos.js";
import { checkPayload } from "../../src/vet/store/wire-check.js";

const base = resolve("fixtures/vet/evolve");
let before: (name: string) => DescMessage;
let after: (name: string) => DescMessage;

beforeAll(async () => {
  const [old, now] = await Promise.all([compileProtos({ roots: [`${base}/type-change/baseline`] }), compileProtos({ roots: [`${base}/type-change/change`] })]);
  before = (n) => old.registry.getMessage(`app.v1.${n}`)!;
  after = (n) => now.registry.getMessage(`app.v1.${n}`)!;
}, 60_000);

describe("checkPayload", () => {
  it("accepts rows written with the same schema", () => {
    const bytes = toBinary(before("FinishedEvent"), create(before("FinishedEvent"), { messageId: "m1", usage: { tokens: 5 } }));
    expect(checkPayload(before("FinishedEvent"), bytes)).toEqual({ unknownFields: [] });
  });

  it("names a field whose type changed even where fromBinary reads it without an error", () => {
    const bytes = toBinary(before("TokensDeltaEvent"), create(before("TokensDeltaEvent"), { messageId: "m1", chunk: "hi" }));
    // string -> int64: the bytes decode "fine" into garbage.
    expect(() => fromBinary(after("TokensDeltaEvent"), bytes)).not.toThrow();
    expect(checkPayload(after("TokensDeltaEvent"), bytes).problem).toBe("field chunk (2) is stored as length-delimited, but the schema reads it as int64 (a varint)");
  });

  it("checks nested messages, with the path of the field", () => {
    const bytes = toBinary(before("FinishedEvent"), create(before("FinishedEvent"), { messageId: "m1", usage: { tokens: 5 } }));
    expect(checkPayload(after("FinishedEvent"), bytes).problem).toBe("field usage.tokens (1) is stored as a varint, but the schema reads it as string (length-delimited)");
  });

  it("reports top-level field numbers the schema neither defines nor reserves", () => {
    const bytes = toBinary(before("ChatMessageEntity"), create(before("ChatMessageEntity"), { messageId: "m1", text: "hi", status: "done" }));
    // TokensDeltaEvent has fields 1 and 2 (both strings, like the entity's): field 3 is unknown to it.
    expect(checkPayload(before("TokensDeltaEvent"), bytes)).toEqual({ unknownFields: [3] });
  });
});
