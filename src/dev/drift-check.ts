// The drift check of `sessionstream dev`: the consistency oracle of
// sessionstream/testing run continuously on sessions as they change, with
// the page's reducer the app exports (`export { reduce }` from the app
// module). Each problem (session, entity, field) is told once, in the
// terminal and in the inspector; the inspector also lists what is current.
import type { AppSchema } from "../runtime/app-schema.js";
import type { Hub } from "../runtime/hub.js";
import { hasEventLog } from "../store/hydration-store.js";
import type { UIReducer } from "../transport/client/session-view.js";
import { checkLiveMatchesSnapshot, show, type Drift } from "../testing/oracle.js";

/** A drift as the inspector shows it (ordinals as strings, values as JSON text). */
export interface DriftProblem {
  readonly sessionId: string;
  readonly ordinal: string;
  readonly eventName: string;
  readonly kind: string;
  readonly id: string;
  readonly path: string;
  readonly live: string;
  readonly snapshot: string;
  readonly scenario: string;
  readonly message: string;
}

/** Options of {@link DriftMonitor}. */
export interface DriftMonitorOptions {
  /** Terminal lines. */
  readonly log: (line: string) => void;
  /** Every new problem (the inspector's live stream). */
  readonly onProblem: (problem: DriftProblem) => void;
  /** Quiet time after an event before its session is checked. Default 300 ms. */
  readonly debounceMs?: number;
}

/**
 * Checks sessions after they change (debounced, one check per session at a
 * time) while an app generation with a reducer is loaded.
 */
export class DriftMonitor {
  readonly #options: DriftMonitorOptions;
  #hub: Hub<AppSchema> | undefined;
  #reduce: UIReducer | undefined;
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #running = new Map<string, Promise<void>>();
  /** Problems told once: session, entity and field (fold or replay). */
  readonly #told = new Set<string>();
  /** The current problems of each checked session. */
  readonly #current = new Map<string, DriftProblem[]>();
  #generation = 0;
  #closed = false;

  constructor(options: DriftMonitorOptions) {
    this.#options = options;
  }

  /** A new app generation: its hub and the reducer its module exports (none: the check is off, said once). */
  attach(hub: Hub<AppSchema>, reduce: UIReducer | undefined, appLabel: string): void {
    this.#generation++;
    const had = this.#reduce !== undefined || this.#generation === 1;
    this.#hub = hub;
    this.#reduce = reduce;
    if (!reduce && had) {
      this.#options.log(`drift check off: ${appLabel} exports no \`reduce\` (export the page's reducer to check live UI against snapshots; see \`sessionstream help troubleshooting\`)`);
    } else if (reduce && !hasEventLog(hub.store)) {
      this.#options.log("drift check off: the store keeps no event log");
      this.#reduce = undefined;
    }
    // Sessions already checked are checked again with the new code.
    if (this.#reduce) for (const sessionId of this.#current.keys()) this.schedule(sessionId);
  }

  detach(): void {
    this.#hub = undefined;
  }

  /** A session changed: check it once things are quiet. */
  schedule(sessionId: string): void {
    if (this.#closed || !this.#reduce) return;
    clearTimeout(this.#timers.get(sessionId));
    this.#timers.set(
      sessionId,
      setTimeout(() => {
        this.#timers.delete(sessionId);
        void this.check(sessionId);
      }, this.#options.debounceMs ?? 300),
    );
  }

  /** Checks a session now (after a running check of it); resolves with its current problems. */
  async check(sessionId: string): Promise<readonly DriftProblem[]> {
    const previous = this.#running.get(sessionId) ?? Promise.resolve();
    const run = previous.then(() => this.#check(sessionId));
    this.#running.set(sessionId, run);
    await run;
    if (this.#running.get(sessionId) === run) this.#running.delete(sessionId);
    return this.problems(sessionId);
  }

  /** The current problems, of one session or of all. */
  problems(sessionId?: string): DriftProblem[] {
    if (sessionId !== undefined) return [...(this.#current.get(sessionId) ?? [])];
    return [...this.#current.values()].flat();
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  async #check(sessionId: string): Promise<void> {
    const hub = this.#hub;
    const reduce = this.#reduce;
    if (!hub || !reduce || this.#closed) return;
    let drifts: readonly Drift[];
    try {
      // Live from the start at every ordinal, plus a few disconnects (full and delta resume), bounded for long sessions.
      const report = await checkLiveMatchesSnapshot(hub, sessionId, { reduce, faults: { maxPoints: 10, window: 3 }, maxDrifts: 20 });
      drifts = report.drifts;
    } catch (err) {
      // A hub closed by a reload, a store that went away: the next event checks again.
      if (hub === this.#hub) this.#options.log(`drift check of session "${sessionId}" failed: ${(err as Error).message}`);
      return;
    }
    if (hub !== this.#hub) return;
    const problems = drifts.map((d) => toProblem(sessionId, d));
    this.#current.set(sessionId, problems);
    for (const p of problems) {
      const key = [p.sessionId, family(p.scenario), p.kind, p.id, p.path].join("\u0000");
      if (this.#told.has(key)) continue;
      this.#told.add(key);
      this.#options.log(`drift in session "${sessionId}": ${p.message}`);
      this.#options.onProblem(p);
    }
  }
}

/** The same field drifting live and in resume scenarios is one problem; a replay mismatch is another. */
function family(scenario: string): string {
  return scenario === "replay" ? "replay" : "fold";
}

function toProblem(sessionId: string, d: Drift): DriftProblem {
  return {
    sessionId,
    ordinal: d.ordinal.toString(),
    eventName: d.eventName,
    kind: d.kind,
    id: d.id,
    path: d.path,
    live: show(d.live),
    snapshot: show(d.snapshot),
    scenario: d.scenario,
    message: d.message,
  };
}
