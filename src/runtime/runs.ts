// Runs (DESIGN section 9): long work started for a session, with an id, a
// kind, an owner and a state recorded in the store, an AbortSignal, and
// terminal events published exactly once by the hooks of its kind.
import { hostname } from "node:os";
import { MemoryHydrationStore } from "../store/memory/memory-store.js";
import { hasRuns, type HydrationStore, type RunEndState, type RunRecord, type RunState, type RunStore } from "../store/hydration-store.js";
import type { AppSchema, NamesOf, PayloadInputOf } from "./app-schema.js";
import { SessionstreamError } from "./errors.js";
import type { EventPublisher } from "./handlers.js";

export type { RunEndState, RunRecord, RunState, RunStore } from "../store/hydration-store.js";

/**
 * What the work of a run receives. `publish` refuses (`run_over`) once the
 * run has ended, so a stopped run can never add an event after its
 * terminal ones.
 */
export interface RunContext<S extends AppSchema> {
  readonly runId: string;
  readonly sessionId: string;
  readonly kind: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** Aborted when the run is stopped or interrupted (shutdown). Reason: a `SessionstreamError`. */
  readonly signal: AbortSignal;
  publish<N extends NamesOf<S["events"]>>(name: N, payload: PayloadInputOf<S["events"], N>): Promise<bigint>;
}

/**
 * The work of a run. Resolving ends the run `finished` (the value it resolves
 * with goes to the `finished` hook, e.g. a model's finish reason), throwing
 * ends it `failed` (unless it was stopped first).
 */
export type RunWork<S extends AppSchema> = (context: RunContext<S>) => Promise<unknown>;

/**
 * How runs of one kind end: each hook publishes the terminal events of its
 * state (e.g. the chat marks the message `finished`, `stopped`,
 * `interrupted`). The runtime calls exactly one of them, once, for each run:
 * whoever ends the run first in the store (its work, a stop, a recovery)
 * wins. A missing hook publishes nothing.
 */
export interface RunKindHooks<S extends AppSchema> {
  /** The work resolved; `result` is what it resolved with (the hook runs in the process that ran the work). */
  finished?(run: RunRecord, publisher: EventPublisher<S>, result: unknown): void | Promise<void>;
  stopped?(run: RunRecord, publisher: EventPublisher<S>): void | Promise<void>;
  failed?(run: RunRecord, publisher: EventPublisher<S>, error: SessionstreamError): void | Promise<void>;
  /** The run's process died or shut down before it ended (crash, deploy, `dev` reload). */
  interrupted?(run: RunRecord, publisher: EventPublisher<S>): void | Promise<void>;
}

/** What `RunManager.start` asks for. */
export interface RunSpec {
  /** A kind registered with `registerRunKind`. */
  readonly kind: string;
  /** JSON data the hooks need (e.g. `{ messageId }`). Default `{}`. */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Default: `run_<uuid>`. */
  readonly runId?: string;
}

/** A started run. */
export interface RunHandle {
  readonly runId: string;
  readonly sessionId: string;
  readonly kind: string;
  /** Resolves with the terminal state once the run has ended and its terminal events are published. */
  readonly done: Promise<RunEndState>;
}

/** The answer of a stop: never silence. */
export interface StopResult {
  readonly runId: string;
  /** True when this call ended the run (its terminal events are published). */
  readonly stopped: boolean;
  /** The run's state after the call; `unknown` when the store has no such run. */
  readonly state: RunState | "unknown";
  /**
   * True when the run lives in another live process: the stop was recorded,
   * and its owner ends it at once when the bus carries stops
   * (`sessionstream/bus/redis`), else at its next heartbeat.
   */
  readonly requested?: boolean;
}

/** Options of runs, under `HubOptions.runs`. */
export interface RunOptions {
  /** This hub's owner id. Default `<hostname>:<pid>:<random>`. */
  readonly owner?: string;
  /**
   * Milliseconds after its last heartbeat that a run of another process is
   * taken as orphaned (a run of a dead process on this host is found at
   * once). Owners renew every `leaseMs / 3`. Default 15000.
   */
  readonly leaseMs?: number;
  /** Milliseconds `hub.close()` waits for runs to end before interrupting the rest. Default 10000. */
  readonly shutdownGraceMs?: number;
}

/**
 * The runs a closing hub hands to its successor in the same process (a `dev`
 * reload, see `Hub.handOver`): they keep running there, and the successor
 * routes stops to them and leaves them out of recovery. Structural, so hubs
 * from two copies of this module (dev's reloads) can hand over.
 */
export interface RunHandOver {
  /** Stops the run when it is one of these; `undefined` when it is not. */
  stopLocal(runId: string): Promise<StopResult> | undefined;
  /** True while the run is one of these and has not ended. */
  has(runId: string): boolean;
  /** Waits up to `graceMs` for them to end, then interrupts the rest through their hooks. */
  close(graceMs?: number): Promise<void>;
}

interface LocalRun {
  record: RunRecord;
  readonly controller: AbortController;
  ending: Promise<RunEndState> | undefined;
  readonly done: Promise<RunEndState>;
}

interface RunManagerDeps<S extends AppSchema> {
  readonly store: HydrationStore;
  readonly publisher: (sessionId: string) => EventPublisher<S>;
  readonly clock: () => number;
  readonly report: (sessionId: string, error: unknown) => void;
  /** Carries a stop to the process running the run (a cluster bus), when there is one. */
  readonly signalStop?: ((runId: string) => Promise<void>) | undefined;
}

/** Runs of one hub. The hub's run methods delegate here. */
export class RunManager<S extends AppSchema> {
  /** This hub's owner id, recorded on every run it starts. */
  readonly owner: string;
  readonly #store: RunStore;
  readonly #deps: RunManagerDeps<S>;
  readonly #leaseMs: number;
  readonly #graceMs: number;
  readonly #kinds = new Map<string, RunKindHooks<S>>();
  readonly #local = new Map<string, LocalRun>();
  /** Runs handed over by the hubs this one succeeded (dev reloads), until they end. */
  readonly #adopted = new Set<RunHandOver>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closing = false;

  constructor(deps: RunManagerDeps<S>, options: RunOptions = {}) {
    this.#deps = deps;
    // A store without the capability still gets runs, kept in this process only.
    this.#store = hasRuns(deps.store) ? deps.store : new MemoryHydrationStore();
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#graceMs = options.shutdownGraceMs ?? 10_000;
  }

  registerKind(kind: string, hooks: RunKindHooks<S>): void {
    if (this.#kinds.has(kind)) throw new SessionstreamError("handler_already_registered", `run kind "${kind}" is already registered`);
    this.#kinds.set(kind, hooks);
  }

  async start(sessionId: string, spec: RunSpec, work: RunWork<S>): Promise<RunHandle> {
    if (this.#closing) throw new SessionstreamError("closed", "the hub is closing: no new runs");
    if (!this.#kinds.has(spec.kind)) {
      throw new SessionstreamError("unknown_run_kind", `run kind "${spec.kind}" is not registered (hub.registerRunKind)`);
    }
    const now = this.#deps.clock();
    const record: RunRecord = {
      runId: spec.runId ?? `run_${crypto.randomUUID()}`,
      sessionId,
      kind: spec.kind,
      owner: this.owner,
      state: "running",
      data: spec.data ?? {},
      startedAt: now,
      heartbeatAt: now,
      stopRequested: false,
    };
    await this.#store.createRun(record);
    const controller = new AbortController();
    let settle!: (state: RunEndState) => void;
    const local: LocalRun = { record, controller, ending: undefined, done: new Promise((resolve) => (settle = resolve)) };
    this.#local.set(record.runId, local);
    this.#ensureTimer();
    const publisher = this.#deps.publisher(sessionId);
    const context: RunContext<S> = {
      runId: record.runId,
      sessionId,
      kind: record.kind,
      data: record.data,
      signal: controller.signal,
      publish: (name, payload) =>
        local.ending
          ? Promise.reject(new SessionstreamError("run_over", `run ${record.runId} has ended: "${String(name)}" is not published`))
          : publisher.publish(name, payload),
    };
    // The work starts after `start` has returned: the handler never waits for it.
    setImmediate(() => {
      Promise.resolve()
        .then(() => work(context))
        .then(
          (result) => this.#end(local, "finished", undefined, result),
          (err: unknown) => (local.ending ? local.ending : this.#end(local, "failed", SessionstreamError.from(err))),
        )
        .then(settle, settle as never);
    });
    return { runId: record.runId, sessionId, kind: record.kind, done: local.done };
  }

  /** Stops a run wherever it is; see {@link StopResult}. */
  async stop(runId: string): Promise<StopResult> {
    for (const handed of this.#adopted) {
      const result = handed.stopLocal(runId);
      if (result) return result;
    }
    const local = this.#local.get(runId);
    if (local) {
      if (local.ending) return { runId, stopped: false, state: await local.ending };
      const state = await this.#end(local, "stopped");
      return { runId, stopped: state === "stopped", state };
    }
    const run = await this.#store.getRun(runId);
    if (!run) return { runId, stopped: false, state: "unknown" };
    if (run.state !== "running") return { runId, stopped: false, state: run.state };
    if (this.#orphaned(run)) {
      const ended = await this.#claim(run, "stopped");
      return ended ? { runId, stopped: true, state: "stopped" } : { runId, stopped: false, state: (await this.#store.getRun(runId))?.state ?? "unknown" };
    }
    const requested = await this.#store.requestRunStop(runId);
    // Recorded first: a lost signal still reaches the run at its owner's next heartbeat.
    if (requested && this.#deps.signalStop) await this.#deps.signalStop(runId).catch((err: unknown) => this.#deps.report(run.sessionId, err));
    return requested ? { runId, stopped: false, state: "running", requested: true } : { runId, stopped: false, state: (await this.#store.getRun(runId))?.state ?? "unknown" };
  }

  /** Stops run `runId` if it runs in this process (a stop another process signalled). */
  stopLocal(runId: string): void {
    const local = this.#local.get(runId);
    if (local) void this.#end(local, "stopped");
  }

  /** Stops every running run of a session. */
  async stopSession(sessionId: string): Promise<StopResult[]> {
    const running = (await this.#store.listRuns(sessionId)).filter((r) => r.state === "running");
    return Promise.all(running.map((r) => this.stop(r.runId)));
  }

  list(sessionId: string): Promise<RunRecord[]> {
    return this.#store.listRuns(sessionId);
  }

  get(runId: string): Promise<RunRecord | undefined> {
    return this.#store.getRun(runId);
  }

  /**
   * Ends, as `interrupted`, every running run whose owner is gone (a dead
   * process on this host, or no heartbeat for `leaseMs`) and whose kind is
   * registered, calling its `interrupted` hook. Resolves with those runs.
   */
  async recover(): Promise<RunRecord[]> {
    this.#ensureTimer();
    const recovered: RunRecord[] = [];
    for (const run of await this.#store.listRunningRuns()) {
      if (this.#local.has(run.runId) || this.#isAdopted(run.runId) || !this.#orphaned(run) || !this.#kinds.has(run.kind)) continue;
      if (await this.#claim(run, "interrupted")) recovered.push({ ...run, state: "interrupted" });
    }
    return recovered;
  }

  /**
   * This manager's runs as a {@link RunHandOver} for a successor: they keep
   * running (and heartbeating) here until they end or `close` interrupts them.
   */
  handOver(): RunHandOver {
    return {
      stopLocal: (runId) => (this.#local.has(runId) || this.#isAdopted(runId) ? this.stop(runId) : undefined),
      has: (runId) => this.#local.has(runId) || this.#isAdopted(runId),
      close: (graceMs) => this.close(graceMs),
    };
  }

  /** Takes a predecessor's runs: stops reach them, recovery leaves them alone, `close` ends them too. */
  adopt(handed: RunHandOver, drained: Promise<void>): void {
    this.#adopted.add(handed);
    void drained.finally(() => this.#adopted.delete(handed));
  }

  #isAdopted(runId: string): boolean {
    for (const handed of this.#adopted) if (handed.has(runId)) return true;
    return false;
  }

  /** Stops accepting runs, waits up to `graceMs` for the local (and adopted) ones, interrupts the rest. */
  async close(graceMs = this.#graceMs): Promise<void> {
    this.#closing = true;
    if (this.#adopted.size > 0) await Promise.all([...this.#adopted].map((handed) => handed.close(graceMs)));
    const pending = [...this.#local.values()];
    if (pending.length > 0 && graceMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.all(pending.map((r) => r.done)), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    await Promise.all([...this.#local.values()].map((r) => this.#end(r, "interrupted")));
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Resolves once every run of this process (of `sessionId`, or all) that is
   * running or ending has ended and its hook has run: the store says a run
   * ended before its terminal events are published.
   */
  async settled(sessionId?: string): Promise<void> {
    for (;;) {
      const pending = [...this.#local.values()].filter((r) => sessionId === undefined || r.record.sessionId === sessionId);
      if (pending.length === 0) return;
      await Promise.all(pending.map((r) => r.done));
    }
  }

  /** Runs in this process (for tests and stats). */
  localRunCount(): number {
    return this.#local.size;
  }

  /** Ends a local run once: aborts its signal at once, then claims it in the store and runs the hook. */
  #end(local: LocalRun, state: RunEndState, error?: SessionstreamError, result?: unknown): Promise<RunEndState> {
    if (local.ending) return local.ending;
    if (state !== "finished" && state !== "failed") {
      local.controller.abort(new SessionstreamError("closed", `run ${local.record.runId} was ${state}`));
    }
    local.ending = (async () => {
      try {
        const claimed = await this.#claim(local.record, state, error, result);
        return claimed ? state : ((await this.#store.getRun(local.record.runId))?.state as RunEndState | undefined) ?? state;
      } finally {
        this.#local.delete(local.record.runId);
        if (this.#local.size === 0 && this.#timer && this.#closing) clearInterval(this.#timer);
      }
    })();
    return local.ending;
  }

  /** Ends the run in the store; when this call won, publishes its terminal events through the hook. */
  async #claim(run: RunRecord, state: RunEndState, error?: SessionstreamError, result?: unknown): Promise<boolean> {
    let claimed: boolean;
    try {
      claimed = await this.#store.endRun(run.runId, state, this.#deps.clock(), error?.message);
    } catch (err) {
      this.#deps.report(run.sessionId, err);
      return false;
    }
    if (!claimed) return false;
    const hooks = this.#kinds.get(run.kind);
    const ended: RunRecord = { ...run, state, ...(error ? { error: error.message } : {}) };
    const publisher = this.#deps.publisher(run.sessionId);
    try {
      if (state === "failed") await hooks?.failed?.(ended, publisher, error!);
      else if (state === "finished") await hooks?.finished?.(ended, publisher, result);
      else await hooks?.[state]?.(ended, publisher);
    } catch (err) {
      this.#deps.report(run.sessionId, err);
    }
    return true;
  }

  #orphaned(run: RunRecord): boolean {
    if (run.owner === this.owner) return !this.#local.has(run.runId);
    if (this.#deps.clock() - run.heartbeatAt > this.#leaseMs) return true;
    return deadOnThisHost(run.owner);
  }

  #ensureTimer(): void {
    if (this.#timer || this.#closing) return;
    this.#timer = setInterval(() => void this.#tick(), Math.max(10, Math.floor(this.#leaseMs / 3)));
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    try {
      if (this.#local.size > 0) {
        const stops = await this.#store.heartbeatRuns(this.owner, this.#deps.clock());
        for (const runId of stops) {
          const local = this.#local.get(runId);
          if (local) void this.#end(local, "stopped");
        }
      }
      if (!this.#closing) await this.recover();
    } catch (err) {
      this.#deps.report("", err);
    }
  }
}

/** True when `owner` names a process on this host that no longer exists. */
function deadOnThisHost(owner: string): boolean {
  const [host, pidText] = owner.split(":");
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
