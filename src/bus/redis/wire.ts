// What the Redis bus writes into its streams. Stream entries are flat
// field/value lists; payloads are protobuf binary, base64-encoded, with their
// type name, so any node whose registry knows the type decodes them. Ordinals
// travel as decimal strings (never a JavaScript number).
import type { PendingEvent } from "../../runtime/event-bus.js";
import type { AppliedEvent, UIEvent } from "../../runtime/handlers.js";
import type { SchemaRegistry } from "../../runtime/registry.js";
import type { TimelineEntity } from "../../runtime/timeline.js";
import { SessionstreamError } from "../../runtime/errors.js";

/** An event waiting in a partition stream. */
export interface BusEntry {
  readonly event: PendingEvent & { readonly eventId: string };
  /** The node that published it. */
  readonly origin: string;
}

/** What the applying node appends to the applied stream after each entry. */
export type AppliedNotice =
  | { readonly ok: true; readonly eventId: string; readonly node: string; readonly duplicate: boolean; readonly applied: AppliedEvent }
  | { readonly ok: false; readonly eventId: string; readonly node: string; readonly sessionId: string; readonly error: SessionstreamError };

type Registry = SchemaRegistry<any>;

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
const unb64 = (text: string) => new Uint8Array(Buffer.from(text, "base64"));

/** Field/value list of a partition stream entry. */
export function encodeEntry(registry: Registry, event: PendingEvent, eventId: string, origin: string): string[] {
  return ["s", event.sessionId, "n", event.name, "t", event.payload.$typeName, "p", b64(registry.encodeBinary(event.payload)), "e", eventId, "o", origin];
}

/** An entry's fields by name (read once per entry: header, payload and notice all use it). */
export function entryRecord(fields: readonly string[]): Record<string, string> {
  return toRecord(fields);
}

export function decodeEntry(registry: Registry, f: Record<string, string>): BusEntry {
  return {
    event: { sessionId: f["s"]!, name: f["n"]!, payload: registry.decodeBinary(f["t"]!, unb64(f["p"]!)), eventId: f["e"]! },
    origin: f["o"]!,
  };
}

/** The eventId and origin of an entry, readable even when its payload type is unknown here. */
export function entryHeader(f: Record<string, string>): { sessionId: string; eventId: string; origin: string } {
  return { sessionId: f["s"] ?? "", eventId: f["e"] ?? "", origin: f["o"] ?? "" };
}

/**
 * The fields of an applied notice. `payload`: the event's type name and
 * base64 bytes as its bus entry carried them, copied instead of encoding the
 * payload again.
 */
export function encodeNotice(registry: Registry, notice: AppliedNotice, payload?: { readonly type: string; readonly bytes: string }): string[] {
  if (!notice.ok) {
    return ["k", "err", "e", notice.eventId, "d", notice.node, "s", notice.sessionId, "c", notice.error.code, "m", notice.error.message];
  }
  const { event, uiEvents, entities } = notice.applied;
  const fields = ["k", notice.duplicate ? "dup" : "ok", "e", notice.eventId, "d", notice.node, "s", event.sessionId, "o", String(event.ordinal), "n", event.name];
  if (notice.duplicate) return fields;
  fields.push("t", payload?.type ?? event.payload.$typeName, "p", payload?.bytes ?? b64(registry.encodeBinary(event.payload)));
  fields.push("u", JSON.stringify(uiEvents.map((u) => [u.name, u.payload.$typeName, b64(registry.encodeBinary(u.payload))])));
  fields.push(
    "x",
    JSON.stringify(
      entities.map((e) => [e.kind, e.id, String(e.createdOrdinal), String(e.lastEventOrdinal), e.tombstone ? 1 : 0, e.payload.$typeName, b64(registry.encodeBinary(e.payload))]),
    ),
  );
  return fields;
}

/** The notice's fields without decoding payloads (cheap, for resolving publishes). */
export function noticeHeader(fields: readonly string[]): Record<string, string> {
  return toRecord(fields);
}

/** Decodes a successful, non-duplicate notice into what the hub's `deliverRemote` takes. */
export function decodeApplied(registry: Registry, f: Record<string, string>): AppliedEvent {
  const ordinal = BigInt(f["o"]!);
  const uiEvents: UIEvent[] = (JSON.parse(f["u"] ?? "[]") as [string, string, string][]).map(([name, type, p]) => ({
    name,
    payload: registry.decodeBinary(type, unb64(p)),
  }));
  const entities: TimelineEntity[] = (JSON.parse(f["x"] ?? "[]") as [string, string, string, string, number, string, string][]).map(
    ([kind, id, created, last, tombstone, type, p]) => ({
      kind,
      id,
      createdOrdinal: BigInt(created),
      lastEventOrdinal: BigInt(last),
      tombstone: tombstone === 1,
      payload: registry.decodeBinary(type, unb64(p)),
    }),
  );
  return {
    event: { sessionId: f["s"]!, ordinal, name: f["n"]!, payload: registry.decodeBinary(f["t"]!, unb64(f["p"]!)) },
    uiEvents,
    entities,
  };
}

function toRecord(fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
}

/** Stable partition of a session id (FNV-1a over UTF-16 code units), the same on every node. */
export function partitionOf(sessionId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i++) h = Math.imul(h ^ sessionId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % partitions;
}
