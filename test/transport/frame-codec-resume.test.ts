// The typed-resume extension fields written directly (snapshotJson) equal the
// protobuf JSON of the generated SnapshotFrame schema, for every outcome.
import { create, createRegistry, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ChatMessageEntitySchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { ResumeKind, SnapshotFrameSchema } from "../../src/gen/sessionstream/v1/transport_pb.js";
import type { Snapshot } from "../../src/index.js";
import { snapshotJson, type SnapshotExtension } from "../../src/transport/frame-codec.js";
import { snapshotFrame } from "../../src/transport/index.js";

const registry = createRegistry(ChatMessageEntitySchema);
const payload = create(ChatMessageEntitySchema, { messageId: "m1", text: "hi" });
const full: Snapshot = {
  sessionId: "s",
  snapshotOrdinal: 7n,
  epoch: 3n,
  entities: [{ kind: "ChatMessage", id: "m1", createdOrdinal: 1n, lastEventOrdinal: 7n, tombstone: false, payload }],
};
const empty: Snapshot = { sessionId: "", snapshotOrdinal: 0n, entities: [] };

describe("snapshot extension fields", () => {
  const cases: Array<[string, Snapshot, bigint, SnapshotExtension, ResumeKind]> = [
    ["recovered", full, 5n, { epoch: 3n, resume: "recovered" }, ResumeKind.RECOVERED],
    ["snapshot", full, 0n, { epoch: 3n, resume: "snapshot" }, ResumeKind.SNAPSHOT],
    ["reset", full, 0n, { epoch: 3n, resume: "reset" }, ResumeKind.RESET],
    ["resync", full, 2n, { epoch: 3n, resume: "recovered", resync: true }, ResumeKind.RECOVERED],
    ["no epoch, empty", empty, 0n, { epoch: 0n, resume: "snapshot" }, ResumeKind.SNAPSHOT],
  ];
  for (const [name, snapshot, changedAfter, extension, kind] of cases) {
    it(`writes ${name} as the schema's protobuf JSON`, () => {
      const ours = snapshotJson(snapshot, changedAfter, registry, extension);
      const reference = toJsonString(SnapshotFrameSchema, snapshotFrame(snapshot, changedAfter, registry, extension), { registry });
      expect(JSON.parse(ours)).toEqual(JSON.parse(reference));
      const parsed = fromJsonString(SnapshotFrameSchema, ours, { registry });
      expect([parsed.resume, parsed.epoch, parsed.resync, parsed.changedAfterOrdinal]).toEqual([kind, extension.epoch, extension.resync ?? false, changedAfter]);
    });
  }

  it("leaves every extension field out without an extension (the reference frame)", () => {
    expect(Object.keys(JSON.parse(snapshotJson(full, 0n, registry)) as object)).toEqual(["sessionId", "snapshotOrdinal", "entities"]);
  });
});
