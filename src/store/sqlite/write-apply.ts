// The hot write of the SQLite store, in a form both of its writers run: the
// event loop's connection (`writer: "main"`) and the writer thread. An apply
// is encoded on the event loop (the registry lives there) into plain values
// and bytes, which cross to a worker thread by structured clone.
import type { AppSchema } from "../../runtime/app-schema.js";
import type { SchemaRegistry } from "../../runtime/registry.js";
import type { ApplyBatch } from "../hydration-store.js";

/** An apply with its payloads encoded: the unit both writers commit. */
export interface EncodedApply {
  readonly sessionId: string;
  readonly ordinal: bigint;
  /** `[name, typeName, payload, appliedAt]` of the logged event; absent for a timeline-only change (rebuild). */
  readonly event?: readonly [string, string, Uint8Array, number];
  /**
   * The event's entities are written later (timeline write-behind): only
   * the session cursor advances, the timeline cursor stays behind.
   */
  readonly timelineDeferred?: boolean;
  /** `[kind, id, createdOrdinal, lastEventOrdinal, tombstone, typeName, payload]` per entity. */
  readonly entities: ReadonlyArray<readonly [string, string, bigint, bigint, 0 | 1, string, Uint8Array]>;
}

/** The statements {@link writeApply} runs, by name. */
export const WRITE_SQL = {
  insertEvent: "INSERT INTO ss_events (session_id, ordinal, name, type_name, payload, applied_at) VALUES (?, ?, ?, ?, ?, ?)",
  upsertSessionCursor: `INSERT INTO ss_sessions (session_id, cursor, timeline_cursor) VALUES (?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET cursor = excluded.cursor, timeline_cursor = excluded.timeline_cursor`,
  upsertEventCursor: `INSERT INTO ss_sessions (session_id, cursor, timeline_cursor) VALUES (?, ?, 0)
       ON CONFLICT (session_id) DO UPDATE SET cursor = excluded.cursor`,
  // Never backwards, and an entity never older than the row: two store
  // instances on one file (dev's reload) may write a session's deferred
  // timeline out of order. A reset or replace deletes the rows first.
  upsertTimelineCursor: `INSERT INTO ss_sessions (session_id, cursor, timeline_cursor) VALUES (?, 0, ?)
       ON CONFLICT (session_id) DO UPDATE SET timeline_cursor = max(timeline_cursor, excluded.timeline_cursor)`,
  upsertEntity: `INSERT INTO ss_entities (session_id, kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (session_id, kind, id) DO UPDATE SET created_ordinal = excluded.created_ordinal,
         last_event_ordinal = excluded.last_event_ordinal, tombstone = excluded.tombstone,
         type_name = excluded.type_name, payload = excluded.payload
       WHERE excluded.last_event_ordinal >= ss_entities.last_event_ordinal`,
} as const;

/** Prepared {@link WRITE_SQL} statements. */
export type WriteStatements = Record<keyof typeof WRITE_SQL, { run(...params: unknown[]): unknown }>;

/**
 * Writes one encoded apply (inside the caller's transaction). Self-contained
 * on purpose: the writer thread's source embeds this function's text, so it
 * may use nothing but its arguments.
 */
export function writeApply(stmt: WriteStatements, a: EncodedApply): void {
  const ev = a.event;
  if (ev) {
    stmt.insertEvent.run(a.sessionId, a.ordinal, ev[0], ev[1], ev[2], ev[3]);
    if (a.timelineDeferred) stmt.upsertEventCursor.run(a.sessionId, a.ordinal);
    else stmt.upsertSessionCursor.run(a.sessionId, a.ordinal, a.ordinal);
  } else {
    stmt.upsertTimelineCursor.run(a.sessionId, a.ordinal);
  }
  for (const e of a.entities) stmt.upsertEntity.run(a.sessionId, e[0], e[1], e[2], e[3], e[4], e[5], e[6]);
}

/**
 * Encodes a batch's payloads with `codec`; throws what the codec throws.
 * With `deferTimeline`, an event's entities are left out (the store writes
 * them later) and the timeline cursor stays.
 */
export function encodeApply(batch: ApplyBatch, codec: SchemaRegistry<AppSchema>, deferTimeline = false): EncodedApply {
  const { sessionId, ordinal, event } = batch;
  const deferred = deferTimeline && event !== undefined;
  const entities = deferred
    ? []
    : batch.entities.map(
        (e) => [e.kind, e.id, e.createdOrdinal, e.lastEventOrdinal, e.tombstone ? 1 : 0, e.payload.$typeName, codec.encodeBinary(e.payload)] as const,
      );
  if (!event) return { sessionId, ordinal, entities };
  const logged = [event.name, event.payload.$typeName, codec.encodeBinary(event.payload), event.appliedAt] as const;
  return deferred ? { sessionId, ordinal, event: logged, timelineDeferred: true, entities } : { sessionId, ordinal, event: logged, entities };
}

/**
 * Encoded applies flattened for `postMessage`: the values in one array, the
 * payload bytes in one transferable buffer. Structured clone costs per
 * object, and an apply as nested arrays costs about four times as much to
 * clone as this form.
 */
export interface PackedApplies {
  /**
   * Per apply: sessionId, ordinal, timelineDeferred (1 or 0), then the event as name, typeName, byte
   * offset, byte length, appliedAt (or null), then the entity count and per
   * entity kind, id, createdOrdinal, lastEventOrdinal, tombstone, typeName,
   * byte offset, byte length.
   */
  readonly values: unknown[];
  readonly bytes: Uint8Array;
}

/** Packs `applies` for the writer thread; transfer `bytes.buffer`. */
export function packApplies(applies: readonly EncodedApply[]): PackedApplies {
  let size = 0;
  for (const a of applies) {
    if (a.event) size += a.event[2].length;
    for (const e of a.entities) size += e[6].length;
  }
  const bytes = new Uint8Array(size);
  const values: unknown[] = [];
  let offset = 0;
  for (const a of applies) {
    values.push(a.sessionId, a.ordinal, a.timelineDeferred ? 1 : 0);
    if (a.event) {
      const [name, typeName, payload, appliedAt] = a.event;
      bytes.set(payload, offset);
      values.push(name, typeName, offset, payload.length, appliedAt);
      offset += payload.length;
    } else {
      values.push(null);
    }
    values.push(a.entities.length);
    for (const [kind, id, created, last, tombstone, typeName, payload] of a.entities) {
      bytes.set(payload, offset);
      values.push(kind, id, created, last, tombstone, typeName, offset, payload.length);
      offset += payload.length;
    }
  }
  return { values, bytes };
}

/**
 * The inverse of {@link packApplies}; payloads are views into `bytes`.
 * Self-contained: the writer thread embeds its text.
 */
export function unpackApplies(packed: PackedApplies): EncodedApply[] {
  const { values: v, bytes } = packed;
  const applies: EncodedApply[] = [];
  for (let i = 0; i < v.length; ) {
    const sessionId = v[i++] as string;
    const ordinal = v[i++] as bigint;
    const timelineDeferred = v[i++] === 1;
    let event: EncodedApply["event"];
    if (v[i] === null) i++;
    else {
      const at = v[i + 2] as number;
      event = [v[i] as string, v[i + 1] as string, bytes.subarray(at, at + (v[i + 3] as number)), v[i + 4] as number];
      i += 5;
    }
    const count = v[i++] as number;
    const entities: Array<EncodedApply["entities"][number]> = [];
    for (let k = 0; k < count; k++, i += 8) {
      const at = v[i + 6] as number;
      entities.push([v[i] as string, v[i + 1] as string, v[i + 2] as bigint, v[i + 3] as bigint, v[i + 4] as 0 | 1, v[i + 5] as string, bytes.subarray(at, at + (v[i + 7] as number))]);
    }
    if (!event) applies.push({ sessionId, ordinal, entities });
    else if (timelineDeferred) applies.push({ sessionId, ordinal, event, timelineDeferred, entities });
    else applies.push({ sessionId, ordinal, event, entities });
  }
  return applies;
}
