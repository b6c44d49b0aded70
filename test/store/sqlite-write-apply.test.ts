// The packed form the writer thread receives: what packApplies flattens,
// unpackApplies gives back, value for value and byte for byte.
import { describe, expect, test } from "vitest";
import { packApplies, unpackApplies, type EncodedApply } from "../../src/store/sqlite/write-apply.js";

const bytes = (...values: number[]) => new Uint8Array(values);
/** Payload views as plain arrays, so that equality compares bytes, not buffers. */
const plain = (list: EncodedApply[]) =>
  list.map((a) => ({ ...a, event: a.event && [a.event[0], a.event[1], [...a.event[2]], a.event[3]], entities: a.entities.map((e) => [...e.slice(0, 6), [...e[6]]]) }));

describe("packApplies / unpackApplies", () => {
  test("round-trip events, timeline-only applies, several and no entities, tombstones and empty payloads", () => {
    const applies: EncodedApply[] = [
      {
        sessionId: "s1",
        ordinal: 1n,
        event: ["Started", "chat.v1.Started", bytes(1, 2, 3), 1700000000000],
        entities: [
          ["Message", "m1", 1n, 1n, 0, "chat.v1.Message", bytes(9, 8)],
          ["Message", "m0", 1n, 1n, 1, "chat.v1.Message", bytes()],
        ],
      },
      { sessionId: "s2", ordinal: 7n, entities: [["Message", "m2", 3n, 7n, 0, "chat.v1.Message", bytes(5)]] },
      { sessionId: "s3", ordinal: 2n, event: ["Delta", "chat.v1.Delta", bytes(), 1], entities: [] },
      // Timeline write-behind: the event alone, its entities written later.
      { sessionId: "s3", ordinal: 3n, event: ["Delta", "chat.v1.Delta", bytes(4), 2], timelineDeferred: true, entities: [] },
    ];
    const packed = packApplies(applies);
    expect(packed.bytes.length).toBe(3 + 2 + 0 + 1 + 0 + 1);
    // Through a real structured clone, as postMessage does.
    const copy = structuredClone(packed, { transfer: [packed.bytes.buffer] });
    expect(packed.bytes.length).toBe(0);
    const back = unpackApplies(copy);
    expect(plain(back)).toEqual(plain(applies));
    expect(back[1]!.event).toBeUndefined();
    expect(back[3]!.timelineDeferred).toBe(true);
  });

  test("an empty list packs to nothing", () => {
    expect(unpackApplies(packApplies([]))).toEqual([]);
  });
});
