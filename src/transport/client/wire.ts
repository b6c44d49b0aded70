// Browser-safe decoding of server frames and encoding of client frames.
// Frames are protobuf JSON, so plain JSON.parse reads them; this module only
// normalises names (camelCase, and the proto names a protobuf JSON writer may
// also use) and turns uint64 strings into bigint. No protobuf runtime needed.

/** A JSON value as parsed. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object as parsed. */
export type JsonRecord = { [key: string]: Json };

/** An `Any` payload: its message type name and its protobuf JSON without `@type`. */
export interface AnyJson {
  readonly typeName: string;
  readonly json: JsonRecord;
}

export interface WireEntity {
  readonly kind: string;
  readonly id: string;
  readonly createdOrdinal: bigint;
  readonly lastEventOrdinal: bigint;
  readonly tombstone: boolean;
  readonly payload: AnyJson;
}

/** A server frame, decoded. */
export type WireServerFrame =
  | { readonly type: "hello"; readonly connectionId: string }
  | {
      readonly type: "snapshot";
      readonly sessionId: string;
      readonly snapshotOrdinal: bigint;
      readonly changedAfterOrdinal: bigint;
      readonly entities: readonly WireEntity[];
      /** Typed resume extension: the timeline epoch (0n: not told). */
      readonly epoch: bigint;
      /** Typed resume extension: how the subscription was satisfied (`undefined`: not told). */
      readonly resume: WireResumeKind | undefined;
      /** Typed resume extension: sent unasked to a subscription that fell behind. */
      readonly resync: boolean;
    }
  | { readonly type: "subscribed"; readonly sessionId: string; readonly sinceSnapshotOrdinal: bigint }
  | { readonly type: "unsubscribed"; readonly sessionId: string }
  | { readonly type: "uiEvent"; readonly sessionId: string; readonly eventOrdinal: bigint; readonly name: string; readonly payload: AnyJson }
  | { readonly type: "error"; readonly code: string; readonly message: string; readonly sessionId: string; readonly detail: string }
  | { readonly type: "ping"; readonly nonce: string }
  | { readonly type: "pong"; readonly nonce: string };

/** How a subscription was satisfied (`ResumeKind` of transport.proto). */
export type WireResumeKind = "recovered" | "snapshot" | "reset";

const RESUME_KINDS: Readonly<Record<string, WireResumeKind>> = {
  RESUME_KIND_RECOVERED: "recovered",
  RESUME_KIND_SNAPSHOT: "snapshot",
  RESUME_KIND_RESET: "reset",
  1: "recovered",
  2: "snapshot",
  3: "reset",
};

const FRAME_KEYS: ReadonlyArray<[WireServerFrame["type"], string]> = [
  ["hello", "hello"],
  ["snapshot", "snapshot"],
  ["subscribed", "subscribed"],
  ["unsubscribed", "unsubscribed"],
  ["uiEvent", "ui_event"],
  ["error", "error"],
  ["ping", "ping"],
  ["pong", "pong"],
];

/** Decodes one server text frame; throws on anything that is not a known frame. */
export function decodeServerFrame(text: string): WireServerFrame {
  const root = JSON.parse(text) as unknown;
  if (!isRecord(root)) throw new Error("server frame is not a JSON object");
  for (const [type, proto] of FRAME_KEYS) {
    const body = root[type] ?? root[proto];
    if (body === undefined) continue;
    const f = isRecord(body) ? body : {};
    switch (type) {
      case "hello":
        return { type, connectionId: str(f, "connectionId", "connection_id") };
      case "snapshot":
        return {
          type,
          sessionId: str(f, "sessionId", "session_id"),
          snapshotOrdinal: u64(f, "snapshotOrdinal", "snapshot_ordinal"),
          changedAfterOrdinal: u64(f, "changedAfterOrdinal", "changed_after_ordinal"),
          epoch: u64(f, "epoch", "epoch"),
          resume: typeof f.resume === "string" || typeof f.resume === "number" ? RESUME_KINDS[f.resume] : undefined,
          resync: f.resync === true,
          entities: arr(f.entities).map((e) => {
            const r = isRecord(e) ? e : {};
            return {
              kind: str(r, "kind", "kind"),
              id: str(r, "id", "id"),
              createdOrdinal: u64(r, "createdOrdinal", "created_ordinal"),
              lastEventOrdinal: u64(r, "lastEventOrdinal", "last_event_ordinal"),
              tombstone: r.tombstone === true,
              payload: anyJson(r.payload),
            };
          }),
        };
      case "subscribed":
        return { type, sessionId: str(f, "sessionId", "session_id"), sinceSnapshotOrdinal: u64(f, "sinceSnapshotOrdinal", "since_snapshot_ordinal") };
      case "unsubscribed":
        return { type, sessionId: str(f, "sessionId", "session_id") };
      case "uiEvent":
        return {
          type,
          sessionId: str(f, "sessionId", "session_id"),
          eventOrdinal: u64(f, "eventOrdinal", "event_ordinal"),
          name: str(f, "name", "name"),
          payload: anyJson(f.payload),
        };
      case "error":
        return {
          type,
          code: str(f, "code", "code"),
          message: str(f, "message", "message"),
          sessionId: str(f, "sessionId", "session_id"),
          detail: str(f, "detail", "detail"),
        };
      case "ping":
      case "pong":
        return { type, nonce: str(f, "nonce", "nonce") };
    }
  }
  throw new Error(`unknown server frame with keys ${Object.keys(root).join(", ") || "(none)"}`);
}

/**
 * The JSON text of a `subscribe` client frame (0 is omitted, as protobuf JSON
 * does). `epoch` (an extension) is the timeline epoch of the state resumed
 * from `since`; it is sent only with a resume point and only when known, so a
 * reference server, which never sends one, never sees it.
 */
export function subscribeFrame(sessionId: string, since: bigint, epoch = 0n): string {
  if (since === 0n) return JSON.stringify({ subscribe: { sessionId } });
  return JSON.stringify({ subscribe: { sessionId, sinceSnapshotOrdinal: since.toString(), ...(epoch > 0n ? { epoch: epoch.toString() } : {}) } });
}

export function unsubscribeFrame(sessionId: string): string {
  return JSON.stringify({ unsubscribe: { sessionId } });
}

export function pingFrame(nonce: string): string {
  return JSON.stringify({ ping: { nonce } });
}

export function pongFrame(nonce: string): string {
  return JSON.stringify({ pong: { nonce } });
}

function anyJson(value: Json | undefined): AnyJson {
  if (!isRecord(value)) return { typeName: "", json: {} };
  const { ["@type"]: url, ...json } = value;
  const typeUrl = typeof url === "string" ? url : "";
  return { typeName: typeUrl.slice(typeUrl.lastIndexOf("/") + 1), json };
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(f: JsonRecord, camel: string, proto: string): string {
  const v = f[camel] ?? f[proto];
  return typeof v === "string" ? v : "";
}

/** uint64 arrives as a string (or a number from lenient writers); never through a lossy `number` when it is a string. */
function u64(f: JsonRecord, camel: string, proto: string): bigint {
  const v = f[camel] ?? f[proto];
  if (typeof v === "string" && /^\d+$/.test(v)) return BigInt(v);
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return 0n;
}

function arr(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}
