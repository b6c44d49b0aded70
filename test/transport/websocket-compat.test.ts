// Frame-level compatibility with the reference implementation: every server
// frame parses strictly with the transport.proto schema (TestSocket does that
// for every frame) and its JSON has exactly the field names and value types
// of DESIGN section 3: camelCase, uint64 as strings, Any with "@type".
import { create, toJsonString } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { ClientFrameSchema } from "../../src/gen/sessionstream/v1/transport_pb.js";
import { connect, startHarness, type Harness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("frame compatibility", () => {
  it("produces frames field by field as in DESIGN section 3", async () => {
    h = await startHarness();
    await h.hub.submit("s", "ChatStartInference", { prompt: "p" });
    const c = await connect(h.url);
    expect(Object.keys(c.frames[0]!.json)).toEqual(["hello"]);
    expect(Object.keys(c.frames[0]!.json.hello as object)).toEqual(["connectionId"]);

    // A client frame built with the schema (as a reference client would) is accepted.
    c.send(toJsonString(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "subscribe", value: { sessionId: "s" } } })));
    await c.nextCase("subscribed");
    const snapshot = c.frames[1]!.json as { snapshot: Record<string, unknown> };
    expect(snapshot.snapshot).toEqual({
      sessionId: "s",
      snapshotOrdinal: "5",
      entities: [
        {
          kind: "ChatMessage",
          id: "m1",
          createdOrdinal: "1",
          lastEventOrdinal: "5",
          payload: {
            "@type": "type.googleapis.com/chat.v1.ChatMessageEntity",
            messageId: "m1",
            role: "assistant",
            text: "Ordinals order events.",
            status: "finished",
          },
        },
      ],
    });
    expect(c.frames[2]!.json).toEqual({ subscribed: { sessionId: "s" } });

    await h.hub.publisher("s").publish("ChatTokensDelta", { messageId: "m1", chunk: "!" });
    const ui = await c.nextCase("uiEvent");
    expect(ui.json).toEqual({
      uiEvent: {
        sessionId: "s",
        eventOrdinal: "6",
        name: "ChatMessageAppended",
        payload: { "@type": "type.googleapis.com/chat.v1.ChatMessageUpdate", messageId: "m1", chunk: "!" },
      },
    });

    c.send({ subscribe: { sessionId: "s", sinceSnapshotOrdinal: "6" } });
    const sub = await c.next((r) => r.frame.frame.case === "subscribed", 4);
    // An old client (no resume=delta) gets a full snapshot and its since ordinal echoed.
    expect(c.frames[4]!.json).toMatchObject({ snapshot: { snapshotOrdinal: "6" } });
    expect(c.frames[4]!.json.snapshot).not.toHaveProperty("changedAfterOrdinal");
    expect(sub.json).toEqual({ subscribed: { sessionId: "s", sinceSnapshotOrdinal: "6" } });

    c.send({ unsubscribe: { sessionId: "s" } });
    expect((await c.nextCase("unsubscribed")).json).toEqual({ unsubscribed: { sessionId: "s" } });
    c.send({ ping: {} });
    expect((await c.nextCase("pong")).json).toEqual({ pong: {} });
    c.send("nope");
    const err = await c.nextCase("error");
    expect(Object.keys(err.json.error as object).sort()).toEqual(["code", "message"]);
    c.close();
  });

  it("accepts proto field names in client frames, as protobuf JSON parsers must", async () => {
    h = await startHarness();
    const c = await connect(h.url);
    c.send({ subscribe: { session_id: "s", since_snapshot_ordinal: 0 } });
    expect((await c.nextCase("subscribed")).json).toEqual({ subscribed: { sessionId: "s" } });
    c.close();
  });
});
