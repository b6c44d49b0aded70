// Server-side encoding and decoding of wire frames (DESIGN section 3):
// protobuf JSON text, camelCase field names, uint64 as strings, `Any`
// payloads with `@type`. Built on the generated transport schema so the
// output is exactly what a protobuf runtime of any language parses.
import { create, fromJson, toJson, toJsonString, type DescMessage, type JsonValue, type JsonWriteOptions, type Message, type Registry } from "@bufbuild/protobuf";
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
import { canonicalizeIntegerStrings } from "./protojson-numbers.js";
import type { Snapshot } from "../runtime/timeline.js";
import { resumeKind, type ResumeOutcome } from "./resume.js";
import { textFrame } from "./wire-frame.js";

/** A server frame serialized once, ready to be sent to any number of sockets. */
export interface EncodedFrame {
  /** UTF-8 bytes of the protobuf JSON text; sent as a text frame. */
  readonly data: Buffer;
  readonly bytes: number;
  /**
   * The whole websocket text frame (header and `data`), built once and
   * written as is to every socket; never mutated (server frames are not
   * masked). The encoders of this module always set it; without it the
   * server frames `data` itself.
   */
  readonly wire?: Buffer;
}

/** The frame of a protobuf JSON text: payload and websocket frame in one buffer. */
function encoded(text: string): EncodedFrame {
  const { data, wire } = textFrame(text);
  return { data, bytes: data.byteLength, wire };
}

/** Encodes a server frame as protobuf JSON (Any payloads resolved through `registry`). */
export function encodeServerFrame(frame: ServerFrame["frame"], registry: Registry): EncodedFrame {
  return encoded(toJsonString(ServerFrameSchema, create(ServerFrameSchema, { frame }), { registry }));
}

/**
 * The `uiEvent` frame of one UI event (serialized once per fanout, shared by
 * every subscriber). Written directly as protobuf JSON: the same text, once
 * parsed, as `encodeServerFrame` of the `UiEventFrame` with the payload
 * packed in an `Any`, without packing the payload to binary and decoding it
 * again for its JSON.
 */
export function encodeUIEvent(sessionId: string, ordinal: bigint, name: string, payload: Message, registry: Registry): EncodedFrame {
  let text = '{"uiEvent":{';
  let sep = "";
  if (sessionId !== "") (text += '"sessionId":' + JSON.stringify(sessionId)), (sep = ",");
  if (ordinal !== 0n) (text += sep + '"eventOrdinal":"' + ordinal.toString() + '"'), (sep = ",");
  if (name !== "") (text += sep + '"name":' + JSON.stringify(name)), (sep = ",");
  text += sep + '"payload":' + anyJson(payload, registry, { registry }) + "}}";
  return encoded(text);
}

/**
 * The typed-resume extension fields of a snapshot frame (DESIGN section 9),
 * written only for clients that opted in; without it the frame is exactly
 * the reference implementation's.
 */
export interface SnapshotExtension {
  /** The snapshot's timeline epoch; 0n (left out) when the store does not track epochs. */
  readonly epoch: bigint;
  readonly resume: ResumeOutcome;
  /** Sent unasked to a live subscription that fell behind (`slowConsumers: "resync"`). Default false. */
  readonly resync?: boolean;
}

/** The `snapshot` frame of a (full or delta) snapshot; `extension` only for clients that opted in. */
export function encodeSnapshot(snapshot: Snapshot, changedAfter: bigint, registry: Registry, extension?: SnapshotExtension): EncodedFrame {
  return encoded('{"snapshot":' + snapshotJson(snapshot, changedAfter, registry, extension) + "}");
}

/**
 * The protobuf JSON text of the `SnapshotFrame` of a snapshot (the `snapshot`
 * frame's body, and the body of the HTTP snapshot endpoint), written
 * directly: it parses with `fromJsonString(SnapshotFrameSchema, text, { registry })`
 * to the same message as `toJsonString` of {@link snapshotFrame}, with the
 * defaults left out as protobuf JSON does (empty strings, 0 ordinals, false
 * tombstones, no entities), each payload as an `Any` (`@type` first, then
 * the payload's fields, or `value` for well-known types with their own JSON).
 */
export function snapshotJson(snapshot: Snapshot, changedAfter: bigint, registry: Registry, extension?: SnapshotExtension): string {
  const opts: Partial<JsonWriteOptions> = { registry };
  let text = "{";
  let sep = "";
  if (snapshot.sessionId !== "") (text += '"sessionId":' + JSON.stringify(snapshot.sessionId)), (sep = ",");
  if (snapshot.snapshotOrdinal !== 0n) (text += sep + '"snapshotOrdinal":"' + snapshot.snapshotOrdinal.toString() + '"'), (sep = ",");
  const entities = snapshot.entities;
  if (entities.length > 0) {
    text += sep + '"entities":[';
    for (let i = 0; i < entities.length; i++) {
      const e = entities[i]!;
      let entity = i === 0 ? "{" : ",{";
      let esep = "";
      if (e.kind !== "") (entity += '"kind":' + JSON.stringify(e.kind)), (esep = ",");
      if (e.id !== "") (entity += esep + '"id":' + JSON.stringify(e.id)), (esep = ",");
      if (e.createdOrdinal !== 0n) (entity += esep + '"createdOrdinal":"' + e.createdOrdinal.toString() + '"'), (esep = ",");
      if (e.lastEventOrdinal !== 0n) (entity += esep + '"lastEventOrdinal":"' + e.lastEventOrdinal.toString() + '"'), (esep = ",");
      if (e.tombstone) (entity += esep + '"tombstone":true'), (esep = ",");
      if (e.payload !== undefined) entity += esep + '"payload":' + anyJson(e.payload, registry, opts);
      text += entity + "}";
    }
    text += "]";
    sep = ",";
  }
  if (changedAfter !== 0n) (text += sep + '"changedAfterOrdinal":"' + changedAfter.toString() + '"'), (sep = ",");
  if (extension !== undefined) {
    if (extension.epoch !== 0n) text += sep + '"epoch":"' + extension.epoch.toString() + '"';
    text += (text === "{" ? "" : ",") + '"resume":"' + RESUME_JSON[extension.resume] + '"';
    if (extension.resync === true) text += ',"resync":true';
  }
  return text + "}";
}

/** The protobuf JSON names of the `ResumeKind` values. */
const RESUME_JSON: Readonly<Record<ResumeOutcome, string>> = Object.freeze({
  recovered: "RESUME_KIND_RECOVERED",
  snapshot: "RESUME_KIND_SNAPSHOT",
  reset: "RESUME_KIND_RESET",
});

/** The `SnapshotFrame` message of a snapshot (see `snapshotJson` for its JSON text). */
export function snapshotFrame(snapshot: Snapshot, changedAfter: bigint, registry: Registry, extension?: SnapshotExtension): SnapshotFrame {
  return create(SnapshotFrameSchema, {
    sessionId: snapshot.sessionId,
    snapshotOrdinal: snapshot.snapshotOrdinal,
    changedAfterOrdinal: changedAfter,
    ...(extension ? { epoch: extension.epoch, resume: resumeKind(extension.resume), resync: extension.resync === true } : {}),
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
    const json = JSON.parse(text) as JsonValue;
    // Integer strings as the Go server reads them ("0x10", "+7", "007" are errors).
    canonicalizeIntegerStrings(ClientFrameSchema, json);
    return fromJson(ClientFrameSchema, json);
  } catch (err) {
    throw new SessionstreamError("bad_client_frame", `cannot parse client frame: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The protobuf JSON of `payload` packed in a `google.protobuf.Any`, as
 * `toJson` of the packed `Any` writes it, but straight from the message:
 * `{"@type": "type.googleapis.com/<type>", ...fields}`, or
 * `{"@type": ..., "value": <json>}` for a well-known type with its own JSON
 * representation (Timestamp, Struct, wrappers, ...).
 */
function anyJson(payload: Message, registry: Registry, opts: Partial<JsonWriteOptions>): string {
  const schema = schemaOf(payload, registry);
  const typeField = '{"@type":' + JSON.stringify("type.googleapis.com/" + schema.typeName);
  const json = JSON.stringify(toJson(schema, payload, opts));
  if (CUSTOM_JSON_WKT.has(schema.typeName) || json.charCodeAt(0) !== 0x7b /* not an object */) return typeField + ',"value":' + json + "}";
  // `json` is an object's text: splice its fields after "@type".
  return json === "{}" ? typeField + "}" : typeField + "," + json.slice(1);
}

/** Well-known types whose JSON is not their fields' object; an `Any` holds their JSON in `value`. */
export const CUSTOM_JSON_WKT: ReadonlySet<string> = new Set([
  "google.protobuf.Any",
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);

function schemaOf(payload: Message, registry: Registry): DescMessage {
  const schema = registry.getMessage(payload.$typeName);
  if (!schema) {
    throw new SessionstreamError("internal", `message type ${payload.$typeName} is not in the type registry; register it before sending it`);
  }
  return schema;
}

function pack(payload: Message, registry: Registry) {
  const schema = registry.getMessage(payload.$typeName);
  if (!schema) {
    throw new SessionstreamError("internal", `message type ${payload.$typeName} is not in the type registry; register it before sending it`);
  }
  return anyPack(schema, payload);
}
