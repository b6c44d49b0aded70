// The consistency oracle: a page that folds live UI events with its reducer
// must hold, at every ordinal, what a reload (the snapshot at that ordinal)
// shows. The session's event log is replayed through the app's projections
// into memory, one ordinal at a time; simulated pages fold the UI events and
// are compared with the snapshot after each event, also across a disconnect
// and a resume (full and delta) at every ordinal.
import { clone, type Message } from "@bufbuild/protobuf";
import type { AppSchema } from "../runtime/app-schema.js";
import type { BackendEventEnvelope } from "../runtime/handlers.js";
import type { Hub } from "../runtime/hub.js";
import { TimelineState, type TimelineEntity } from "../runtime/timeline.js";
import { hasEventLog, type EventLogStore, type StoredEvent } from "../store/hydration-store.js";
import { resumeSnapshot } from "../transport/resume.js";
import type { WireServerFrame } from "../transport/client/wire.js";
import type { PayloadDecoder, UIReducer } from "../transport/client/session-view.js";
import { diffEntities, type CompareOptions, type EntityDifference } from "./compare.js";
import { SimulatedClient, snapshotFrameOf, uiEventFrames } from "./simulated-client.js";

/** How a simulated page resumes after a disconnect: a full snapshot, or a delta from its resume ordinal. */
export type ResumeMode = "full" | "delta";

/** Fault injection of {@link checkLiveMatchesSnapshot}. */
export interface FaultOptions {
  /** Resume modes to simulate. Default both: `["full", "delta"]`. */
  readonly modes?: readonly ResumeMode[];
  /** Events applied while disconnected before the page reconnects. Default `[0, 1]`. */
  readonly reconnectAfter?: readonly number[];
  /** Also drop a connection between the UI frames of one backend event (when it has several). Default true. */
  readonly midEvent?: boolean;
  /** Ordinals compared after each reconnect (and the last ordinal is always compared). Default 20. */
  readonly window?: number;
  /** Disconnect points at most (evenly spread over the log when it is longer). Default 200. */
  readonly maxPoints?: number;
}

/** Options of {@link checkLiveMatchesSnapshot} and {@link expectLiveMatchesSnapshot}. */
export interface LiveSnapshotOptions {
  /** The page's reducer: the same function it passes to `client.subscribe(sessionId, { reduce })`. */
  readonly reduce: UIReducer;
  /** The page's payload decoder (the client's `registry` option). Default none: payloads are protobuf JSON, as in a page without one. */
  readonly decoder?: PayloadDecoder;
  /** Simulated disconnects and resumes; `false` checks the live page alone. Default `true` (every ordinal, both modes). */
  readonly faults?: boolean | FaultOptions;
  /** What is compared besides payloads. Default: `createdOrdinal` yes, `lastEventOrdinal` no. */
  readonly compare?: CompareOptions;
  /** Drifts kept in the report. Default 50. */
  readonly maxDrifts?: number;
}

/** One mismatch: where the live fold and the snapshot disagree. */
export interface Drift extends EntityDifference {
  /** The ordinal at which they disagree. */
  readonly ordinal: bigint;
  /** The backend event at that ordinal. */
  readonly eventName: string;
  /** How the page got there: `live from ordinal 0`, or the disconnect and resume it went through. */
  readonly scenario: string;
  /** The whole story in one line. */
  readonly message: string;
}

/** What {@link checkLiveMatchesSnapshot} found. */
export interface ConsistencyReport {
  readonly sessionId: string;
  /** Events replayed (the last ordinal of the log). */
  readonly events: number;
  /** Simulated pages (one live from the start, the rest with a disconnect). */
  readonly scenarios: number;
  /** Comparisons of a page with a snapshot. */
  readonly checks: number;
  /** Mismatches, earliest ordinal first, the live page's before resumed ones; at most `maxDrifts`. */
  readonly drifts: readonly Drift[];
  /** Every mismatch found, including those left out of `drifts`. */
  readonly driftCount: number;
}

/** Thrown by {@link expectLiveMatchesSnapshot}; `report` holds every drift. */
export class LiveSnapshotMismatchError extends Error {
  readonly report: ConsistencyReport;
  constructor(report: ConsistencyReport) {
    const shown = report.drifts.slice(0, 5).map((d) => `  - ${d.message}`);
    const more = report.driftCount > shown.length ? [`  ... and ${report.driftCount - shown.length} more`] : [];
    super(
      `live UI state and the snapshot drift apart in session "${report.sessionId}" ` +
        `(${report.driftCount} mismatch${report.driftCount === 1 ? "" : "es"} in ${report.checks} checks over ${report.events} events):\n` +
        [...shown, ...more].join("\n"),
    );
    this.name = "LiveSnapshotMismatchError";
    this.report = report;
  }
}

interface Scenario {
  readonly label: string;
  readonly client: SimulatedClient;
  /** Live through this ordinal (all frames)... */
  readonly disconnectAfter: bigint;
  /** ...plus this many frames of the next event (0: a clean disconnect). */
  readonly partialFrames: number;
  readonly reconnectAt: bigint;
  readonly mode: ResumeMode | undefined;
  /** Resumes from the hub's own store (at the last ordinal) instead of the replayed timeline. */
  readonly fromStore: boolean;
  state: "live" | "offline" | "done";
  checkUntil: bigint;
}

/**
 * Replays the session's event log through the hub's projections into memory
 * and, after every event, compares what a page folding the live UI events
 * with `reduce` holds against the snapshot at that ordinal; with faults, also
 * pages that lost their connection at every ordinal (cleanly or between two
 * frames of one event) and resumed with a full or a delta snapshot. Also
 * checks that the replayed timeline equals the stored one (projections that
 * read the clock or random ids do not replay). Needs a store with an event
 * log (memory, SQLite, PostgreSQL). Resolves with the report; never throws
 * for drift (see {@link expectLiveMatchesSnapshot}).
 */
export async function checkLiveMatchesSnapshot<S extends AppSchema>(hub: Hub<S>, sessionId: string, options: LiveSnapshotOptions): Promise<ConsistencyReport> {
  const registry = hub.registry.typeRegistry;
  const steps = await replay(hub, sessionId, await readLog(hub, sessionId));
  const n = steps.length;
  const last = BigInt(n);
  const faults = faultOptions(options.faults);
  const maxDrifts = options.maxDrifts ?? 50;
  const drifts: Drift[] = [];
  let driftCount = 0;
  let checks = 0;

  const newScenario = (label: string, disconnectAfter: bigint, partialFrames: number, reconnectAt: bigint, mode: ResumeMode | undefined): Scenario => ({
    label,
    client: new SimulatedClient(sessionId, options.reduce, options.decoder),
    disconnectAfter,
    partialFrames,
    reconnectAt,
    mode,
    fromStore: false,
    state: "live",
    checkUntil: mode === undefined ? last : 0n,
  });
  const scenarios: Scenario[] = [newScenario("live from ordinal 0", 0n, 0, 0n, undefined)];
  if (faults) {
    const every = Math.max(1, Math.ceil(n / faults.maxPoints));
    for (let d = 1; d <= n; d += every) {
      // A clean disconnect after ordinal d, and drops between the frames of event d.
      const partials = faults.midEvent ? Array.from({ length: Math.min(steps[d - 1]!.frames.length, 4) - 1 }, (_, i) => i + 1) : [];
      for (const mode of faults.modes) {
        for (const gap of faults.reconnectAfter) {
          if (d + gap <= n) {
            scenarios.push(newScenario(`${mode} resume: disconnected after ordinal ${d}, reconnected at ordinal ${d + gap}`, BigInt(d), 0, BigInt(d + gap), mode));
          }
          for (const f of partials) {
            if (d + gap > n) continue;
            const label = `${mode} resume: disconnected after ${f} of ${steps[d - 1]!.frames.length} frames of ordinal ${d}, reconnected at ordinal ${d + gap}`;
            scenarios.push(newScenario(label, BigInt(d - 1), f, BigInt(d + gap), mode));
          }
        }
      }
    }
    // Resumes answered by the hub's own store and resume logic (deltas, tombstones, epochs), at the last ordinal.
    if (n > 0 && (await hub.cursor(sessionId)) === last) {
      for (let d = 1; d < n; d += every) {
        for (const mode of faults.modes) {
          scenarios.push({ ...newScenario(`${mode} resume from the store: disconnected after ordinal ${d}, reconnected at ordinal ${n}`, BigInt(d), 0, last, mode), fromStore: true });
        }
      }
    }
  }
  const empty = snapshotFrameOf(registry, new TimelineState(sessionId).snapshot(), 0n, "snapshot", 0n);
  for (const s of scenarios) s.client.snapshot(empty);

  const record = (s: Scenario, ordinal: bigint, eventName: string, diff: readonly EntityDifference[]): void => {
    s.state = "done";
    for (const d of diff) {
      driftCount++;
      if (drifts.length >= maxDrifts) continue;
      const what = d.kind === "" ? String(d.live) : `${where(d)}: live ${show(d.live)} vs snapshot ${show(d.snapshot)}`;
      drifts.push({ ...d, ordinal, eventName, scenario: s.label, message: `ordinal ${ordinal} (event "${eventName}"): ${what} [${s.label}]` });
    }
  };

  const timeline = new TimelineState(sessionId);
  const source = { snapshot: async (_sid: string, opts?: { changedAfter?: bigint }) => timeline.snapshot(opts) };
  for (const step of steps) {
    const { ordinal, name, frames } = step;
    timeline.apply(ordinal, step.entities);
    const reference = new SimulatedClient(sessionId, undefined, undefined);
    reference.snapshot(snapshotFrameOf(registry, timeline.snapshot(), 0n, "snapshot", 0n));
    const expected = reference.view.getSnapshot().entities;

    for (const s of scenarios) {
      if (s.state === "done") continue;
      try {
        if (s.state === "live") {
          if (s.partialFrames > 0 && ordinal === s.disconnectAfter + 1n) {
            s.client.uiEvents(frames, s.partialFrames);
            s.state = "offline";
          } else {
            s.client.uiEvents(frames);
            if (s.mode !== undefined && s.partialFrames === 0 && ordinal === s.disconnectAfter) s.state = "offline";
          }
        }
        if (s.state === "offline" && ordinal === s.reconnectAt) {
          const view = s.client.view;
          const since = s.mode === "delta" ? view.resumeOrdinal() : 0n;
          const resumed = await resumeSnapshot(s.fromStore ? hub : source, sessionId, since, view.resumeEpoch());
          s.client.snapshot(snapshotFrameOf(registry, resumed.snapshot, resumed.changedAfter, resumed.resume, resumed.epoch));
          s.state = "live";
          s.checkUntil = ordinal + BigInt(faults?.window ?? 0);
        }
      } catch (err) {
        record(s, ordinal, name, [{ kind: "", id: "", path: "", live: `the page failed: ${(err as Error).message}`, snapshot: undefined }]);
        continue;
      }
      if (s.state !== "live" || (s.mode !== undefined && ordinal < s.reconnectAt) || (ordinal > s.checkUntil && ordinal !== last)) continue;
      checks++;
      const diff = diffEntities(hub.registry, s.client.view.getSnapshot().entities, expected, options.compare);
      if (diff.length > 0) record(s, ordinal, name, diff);
    }
  }

  // The replayed timeline must be the stored one, or the snapshots at past ordinals are not what pages were sent.
  const stored = n > 0 ? await hub.snapshot(sessionId) : undefined;
  if (stored && stored.snapshotOrdinal === last) {
    const replayed = new SimulatedClient(sessionId, undefined, undefined);
    replayed.snapshot(snapshotFrameOf(registry, timeline.snapshot(), 0n, "snapshot", 0n));
    const actual = new SimulatedClient(sessionId, undefined, undefined);
    actual.snapshot(snapshotFrameOf(registry, stored, 0n, "snapshot", 0n));
    checks++;
    const diff = diffEntities(hub.registry, replayed.view.getSnapshot().entities, actual.view.getSnapshot().entities, { lastEventOrdinal: true });
    driftCount += diff.length;
    for (const d of diff.slice(0, Math.max(0, Math.min(1, maxDrifts - drifts.length)))) {
      drifts.push({
        ...d,
        ordinal: last,
        eventName: steps[n - 1]!.name,
        scenario: "replay",
        message:
          `ordinal ${last}: the timeline replayed from the event log differs from the stored one at ${where(d)}: replayed ${show(d.live)} vs stored ${show(d.snapshot)} ` +
          `(does a projection read the clock, random ids or outside state?) [replay]`,
      });
    }
  }

  drifts.sort((a, b) => (a.ordinal !== b.ordinal ? (a.ordinal < b.ordinal ? -1 : 1) : rank(a) - rank(b)));
  return { sessionId, events: n, scenarios: scenarios.length, checks, drifts, driftCount };
}

/** One replayed event: its UI frames and entity changes. */
interface Step {
  readonly ordinal: bigint;
  readonly name: string;
  readonly frames: WireServerFrame[];
  readonly entities: readonly TimelineEntity[];
}

/** Runs the log through the hub's projections into memory, once. */
async function replay<S extends AppSchema>(hub: Hub<S>, sessionId: string, events: readonly StoredEvent[]): Promise<Step[]> {
  const timeline = new TimelineState(sessionId);
  const steps: Step[] = [];
  for (const stored of events) {
    if (stored.ordinal !== BigInt(steps.length + 1)) {
      throw new Error(`the event log of session "${sessionId}" has a gap: ordinal ${stored.ordinal} follows ${steps.length}`);
    }
    const event: BackendEventEnvelope = { name: stored.name, sessionId, ordinal: stored.ordinal, payload: stored.payload };
    try {
      const applied = await hub.replayEvent(event, timeline);
      timeline.apply(stored.ordinal, applied.entities);
      // Copies: a projection that later changes a payload in place must not rewrite the past.
      const entities = applied.entities.map((e) => ({ ...e, payload: copy(hub, e.kind, e.payload) }));
      steps.push({ ordinal: stored.ordinal, name: stored.name, frames: uiEventFrames(hub.registry.typeRegistry, sessionId, stored.ordinal, applied.uiEvents), entities });
    } catch (err) {
      throw new Error(`replaying ordinal ${stored.ordinal} (event "${stored.name}") of session "${sessionId}" failed: ${(err as Error).message}`, { cause: err });
    }
  }
  return steps;
}

/**
 * {@link checkLiveMatchesSnapshot}, throwing a {@link LiveSnapshotMismatchError}
 * when anything drifts; its message names the ordinal, the event, the entity
 * (kind and id), the field path and both values of the first mismatches.
 * Resolves with the report otherwise.
 */
export async function expectLiveMatchesSnapshot<S extends AppSchema>(hub: Hub<S>, sessionId: string, options: LiveSnapshotOptions): Promise<ConsistencyReport> {
  const report = await checkLiveMatchesSnapshot(hub, sessionId, options);
  if (report.driftCount > 0) throw new LiveSnapshotMismatchError(report);
  return report;
}

async function readLog<S extends AppSchema>(hub: Hub<S>, sessionId: string): Promise<StoredEvent[]> {
  const store = hub.store;
  if (!hasEventLog(store)) throw new Error("the consistency oracle needs a store with an event log (MemoryHydrationStore, SqliteHydrationStore, PostgresHydrationStore)");
  return readEventLog(store, sessionId);
}

/** The whole event log of a session, paged through `readEvents`. */
export async function readEventLog(store: EventLogStore, sessionId: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let after = 0n; ; ) {
    const page = await store.readEvents(sessionId, after, 500);
    if (page.length === 0) return out;
    out.push(...page);
    after = page[page.length - 1]!.ordinal;
  }
}

function copy<S extends AppSchema>(hub: Hub<S>, kind: string, payload: Message): Message {
  const schema = hub.registry.lookup("entities", kind);
  return schema ? clone(schema, payload) : payload;
}

function faultOptions(f: LiveSnapshotOptions["faults"]): Required<FaultOptions> | undefined {
  if (f === false) return undefined;
  const o = f === true || f === undefined ? {} : f;
  return {
    modes: o.modes ?? ["full", "delta"],
    reconnectAfter: o.reconnectAfter ?? [0, 1],
    midEvent: o.midEvent ?? true,
    window: o.window ?? 20,
    maxPoints: o.maxPoints ?? 200,
  };
}

function rank(d: Drift): number {
  return d.scenario.startsWith("live") ? 0 : d.scenario === "replay" ? 2 : 1;
}

function where(d: EntityDifference): string {
  const entity = `${d.kind} "${d.id}"`;
  if (d.path !== "") return `${entity} field ${d.path}`;
  if (d.live === undefined) return `${entity} (missing live)`;
  if (d.snapshot === undefined) return `${entity} (missing from the snapshot)`;
  return entity;
}

/** A value for a message: JSON, bigints as numbers, `(none)` for undefined. */
export function show(value: unknown): string {
  if (value === undefined) return "(none)";
  if (typeof value === "bigint") return value.toString();
  const text = JSON.stringify(value);
  return text.length > 120 ? text.slice(0, 117) + "..." : text;
}
