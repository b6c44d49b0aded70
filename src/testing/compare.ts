// Compares what a client holds after folding live UI events with what a
// reload would show: entity by entity, field by field, in protobuf JSON (so
// a field the reducer set to its default equals one the snapshot left out).
import { fromJson, isMessage, toJson, type JsonValue, type Message } from "@bufbuild/protobuf";
import type { SchemaRegistry } from "../runtime/registry.js";
import type { AppSchema } from "../runtime/app-schema.js";
import type { ClientEntity } from "../transport/client/session-view.js";

/** One difference between the live fold and the snapshot of one entity. */
export interface EntityDifference {
  readonly kind: string;
  readonly id: string;
  /** The differing field path (`text`, `items[2].name`), `createdOrdinal`, or `` (the whole entity). */
  readonly path: string;
  /** The value the live fold holds (`undefined`: the entity is missing live). */
  readonly live: unknown;
  /** The value the snapshot holds (`undefined`: the entity is missing from the snapshot). */
  readonly snapshot: unknown;
}

type Entities = ReadonlyMap<string, ReadonlyMap<string, ClientEntity>>;

/** Options of {@link diffEntities}. */
export interface CompareOptions {
  /** Compare `createdOrdinal` too (the order a page lists entities in). Default true. */
  readonly createdOrdinal?: boolean;
  /** Compare `lastEventOrdinal` too. Default false: a reducer need not touch an entity an event re-wrote unchanged. */
  readonly lastEventOrdinal?: boolean;
}

/**
 * The differences between two client entity maps (live fold vs snapshot),
 * ordered by kind, id and path. Payloads are compared as the protobuf JSON
 * of the kind's registered entity message (decoded messages and protobuf
 * JSON alike); a live payload that is not a valid message of that type is a
 * difference at the whole payload.
 */
export function diffEntities<S extends AppSchema>(
  registry: SchemaRegistry<S>,
  live: Entities,
  snapshot: Entities,
  options: CompareOptions = {},
): EntityDifference[] {
  const out: EntityDifference[] = [];
  const kinds = [...new Set([...live.keys(), ...snapshot.keys()])].sort();
  for (const kind of kinds) {
    const l = live.get(kind) ?? new Map<string, ClientEntity>();
    const s = snapshot.get(kind) ?? new Map<string, ClientEntity>();
    const ids = [...new Set([...l.keys(), ...s.keys()])].sort();
    for (const id of ids) {
      const le = l.get(id);
      const se = s.get(id);
      if (!le || !se) {
        out.push({ kind, id, path: "", live: le ? canonical(registry, le) : undefined, snapshot: se ? canonical(registry, se) : undefined });
        continue;
      }
      if (options.createdOrdinal !== false && le.createdOrdinal !== se.createdOrdinal) {
        out.push({ kind, id, path: "createdOrdinal", live: le.createdOrdinal, snapshot: se.createdOrdinal });
      }
      if (options.lastEventOrdinal === true && le.lastEventOrdinal !== se.lastEventOrdinal) {
        out.push({ kind, id, path: "lastEventOrdinal", live: le.lastEventOrdinal, snapshot: se.lastEventOrdinal });
      }
      const lp = canonical(registry, le);
      const sp = canonical(registry, se);
      for (const d of diffJson(lp, sp, "")) out.push({ kind, id, ...d });
    }
  }
  return out;
}

/**
 * The payload of a client entity as canonical protobuf JSON of the kind's
 * registered message, or `{ invalid: reason, value }` when it is not one.
 */
export function canonical<S extends AppSchema>(registry: SchemaRegistry<S>, entity: ClientEntity): JsonValue {
  const schema = registry.lookup("entities", entity.kind);
  const payload = entity.payload;
  if (!schema) return toJsonValue(payload);
  try {
    if (isMessage(payload)) return toJson(schema, payload as Message, { registry: registry.typeRegistry });
    const message = fromJson(schema, (payload ?? {}) as JsonValue, { registry: registry.typeRegistry });
    return toJson(schema, message, { registry: registry.typeRegistry });
  } catch (err) {
    return { "(not a valid message)": `${schema.typeName}: ${(err as Error).message}`, value: toJsonValue(payload) };
  }
}

function toJsonValue(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as JsonValue;
}

/** Leaf differences between two JSON values, by path. */
export function diffJson(live: JsonValue | undefined, snapshot: JsonValue | undefined, path: string): Array<{ path: string; live: unknown; snapshot: unknown }> {
  if (isObject(live) && isObject(snapshot)) {
    const keys = [...new Set([...Object.keys(live), ...Object.keys(snapshot)])].sort();
    return keys.flatMap((k) => diffJson(live[k], snapshot[k], path === "" ? k : `${path}.${k}`));
  }
  if (Array.isArray(live) && Array.isArray(snapshot)) {
    const n = Math.max(live.length, snapshot.length);
    const out: Array<{ path: string; live: unknown; snapshot: unknown }> = [];
    for (let i = 0; i < n; i++) out.push(...diffJson(live[i], snapshot[i], `${path}[${i}]`));
    return out;
  }
  return JSON.stringify(live) === JSON.stringify(snapshot) ? [] : [{ path, live, snapshot }];
}

function isObject(v: JsonValue | undefined): v is { [k: string]: JsonValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
