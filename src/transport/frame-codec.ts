// Server-side encoding and decoding of wire frames (DESIGN section 3):
// protobuf JSON text, camelCase field names, uint64 as strings, `Any`
// payloads with `@type`. Built on the generated transport schema so the
// output is exactly what a protobuf runtime of any language parses.
import { create, fromJsonString, toJsonString, type Message, type Registry } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import {
  ClientFrameSchema,
  ServerFrameSchema,
  SnapshotEntitySchema,
  SnapshotFrameSchema,
  type SnapshotFrame,
  type ClientFrame,
  type ServerFrame,
} from "../gen/sessionstream/v1/transport_pb.js";
import { SessionstreamError } from "../runtime/errors.js";
import type { Snapshot } from "../runtime/timeline.js";

/** A server frame serialized once, ready to be sent to any number of sockets. */
export interface EncodedFrame {
  /** UTF-8 bytes of the protobuf JSON text; sent as a text frame. */
  readonly data: Buffer;
  readonly bytes: number;
}

/** Encodes a server frame as protobuf JSON (Any payloads resolved through `registry`). */
export function encodeServerFrame(frame: ServerFrame["frame"], registry: Registry): EncodedFrame {
  const text = toJsonString(ServerFrameSchema, create(ServerFrameSchema, { frame }), { registry });
  const data = Buffer.from(text, "utf8");
  return { data, bytes: data.byteLength };
}

/** The `uiEvent` frame of one UI event (serialized once per fanout, shared by every subscriber). */
export function encodeUIEvent(sessionId: string, ordinal: bigint, name: string, payload: Message, registry: Registry): EncodedFrame {
  return encodeServerFrame(
    { case: "uiEvent", value: { $typeName: "sessionstream.v1.UiEventFrame", sessionId, eventOrdinal: ordinal, name, payload: pack(payload, registry) } },
    registry,
  );
}

/** The `snapshot` frame of a (full or delta) snapshot. */
export function encodeSnapshot(snapshot: Snapshot, changedAfter: bigint, registry: Registry): EncodedFrame {
  return encodeServerFrame({ case: "snapshot", value: snapshotFrame(snapshot, changedAfter, registry) }, registry);
}

/** The `SnapshotFrame` message of a snapshot (also the body of the HTTP snapshot endpoint). */
export function snapshotFrame(snapshot: Snapshot, changedAfter: bigint, registry: Registry): SnapshotFrame {
  return create(SnapshotFrameSchema, {
    sessionId: snapshot.sessionId,
    snapshotOrdinal: snapshot.snapshotOrdinal,
    changedAfterOrdinal: changedAfter,
    entities: snapshot.entities.map((e) =>
      create(SnapshotEntitySchema, {
        kind: e.kind,
        id: e.id,
        createdOrdinal: e.createdOrdinal,
        lastEventOrdinal: e.lastEventOrdinal,
        tombstone: e.tombstone,
        payload: pack(e.payload, registry),
      }),
    ),
  });
}

/** An `error` frame; `sessionId` names the subscription it concerns, when there is one. */
export function encodeError(code: string, message: string, registry: Registry, sessionId = "", detail = ""): EncodedFrame {
  return encodeServerFrame(
    { case: "error", value: { $typeName: "sessionstream.v1.ErrorFrame", code, message, sessionId, detail } },
    registry,
  );
}

/**
 * Parses a client frame strictly (unknown fields are errors, as in the
 * reference server). Throws `bad_client_frame` naming the problem.
 */
export function decodeClientFrame(text: string): ClientFrame {
  try {
    return fromJsonString(ClientFrameSchema, text);
  } catch (err) {
    throw new SessionstreamError("bad_client_frame", `cannot parse client frame: ${(err as Error).message}`, { cause: err });
  }
}

function pack(payload: Message, registry: Registry) {
  const schema = registry.getMessage(payload.$typeName);
  if (!schema) {
    throw new SessionstreamError("internal", `message type ${payload.$typeName} is not in the type registry; register it before sending it`);
  }
  return anyPack(schema, payload);
}
