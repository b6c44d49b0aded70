// The bare-loop baseline of the hub scenarios: the same projection functions
// and the same Map updates (event log, entity upsert keeping createdOrdinal,
// cursor), called synchronously without the hub around them.
import type { Message } from "@bufbuild/protobuf";
import type { TimelineEntity } from "../../src/index.js";
import { timelineProjection, uiProjection, type BenchEvent, type ProjectedEntity, type ProjectedUI } from "./chat-bench.js";

export interface BareSession {
  readonly sessionId: string;
  cursor: bigint;
  readonly entities: Map<string, TimelineEntity>;
  readonly events: Array<{ sessionId: string; ordinal: bigint; name: string; payload: Message; appliedAt: number }>;
  readonly view: { get(kind: string, id: string): TimelineEntity | undefined };
}

export function bareSession(sessionId: string): BareSession {
  const entities = new Map<string, TimelineEntity>();
  return {
    sessionId,
    cursor: 0n,
    entities,
    events: [],
    view: {
      get(kind, id) {
        const e = entities.get(`${kind}\u0000${id}`);
        return e && !e.tombstone ? e : undefined;
      },
    },
  };
}

/** Writes of one applied event, for baselines that persist (SQLite). */
export type PersistFn = (s: BareSession, ordinal: bigint, ev: BenchEvent, appliedAt: number, entities: readonly TimelineEntity[]) => void;

/**
 * Applies one event: assigns the ordinal, runs both projections, upserts the
 * entities, appends to the log, advances the cursor, hands UI events to `sink`.
 */
export function bareApply(s: BareSession, ev: BenchEvent, sink: (ui: ProjectedUI[]) => void, persist?: PersistFn): bigint {
  const ordinal = s.cursor + 1n;
  const envelope = { name: ev.name, sessionId: s.sessionId, ordinal, payload: ev.payload };
  const ui = uiProjection(envelope);
  const projected: ProjectedEntity[] = timelineProjection(envelope, s.view);
  const entities: TimelineEntity[] = [];
  for (const out of projected) {
    const key = `${out.kind}\u0000${out.id}`;
    const earlier = s.entities.get(key);
    entities.push({
      kind: out.kind,
      id: out.id,
      createdOrdinal: earlier && !earlier.tombstone ? earlier.createdOrdinal : ordinal,
      lastEventOrdinal: ordinal,
      tombstone: false,
      payload: out.payload,
    });
  }
  const appliedAt = Date.now();
  persist?.(s, ordinal, ev, appliedAt, entities);
  for (const e of entities) s.entities.set(`${e.kind}\u0000${e.id}`, e);
  s.events.push({ sessionId: s.sessionId, ordinal, name: ev.name, payload: ev.payload, appliedAt });
  s.cursor = ordinal;
  sink(ui);
  return ordinal;
}

/**
 * The bare loop with the queue-and-await pattern any hub pays: `publish`
 * returns a promise, events of one session run one after another through a
 * per-session promise chain (the hub's `KeyedSerialQueue` shape), and the
 * apply awaits the store's asynchronous write (here an empty async call, as
 * the memory store's). Same projections and Map updates as `bareApply`.
 */
export function asyncBarePublisher(sink: (ui: ProjectedUI[]) => void): (s: BareSession, ev: BenchEvent) => Promise<bigint> {
  const tails = new Map<string, Promise<unknown>>();
  const storeApply = async (): Promise<void> => {};
  const apply = async (s: BareSession, ev: BenchEvent): Promise<bigint> => {
    const ordinal = bareApply(s, ev, sink);
    await storeApply();
    return ordinal;
  };
  return (s, ev) => {
    const prev = tails.get(s.sessionId);
    const task = () => apply(s, ev);
    const result = prev ? prev.then(task, task) : task();
    tails.set(s.sessionId, result);
    const release = () => {
      if (tails.get(s.sessionId) === result) tails.delete(s.sessionId);
    };
    result.then(release, release);
    return result;
  };
}
