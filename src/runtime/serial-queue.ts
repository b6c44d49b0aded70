/**
 * Runs tasks one at a time per key, in submission order; different keys run
 * concurrently. A failed task does not stop the ones queued after it.
 */
export class KeyedSerialQueue {
  // The last task's promise per key; deleted when the key goes idle.
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.runReleasing(key, runWatched, task as () => Promise<unknown>) as Promise<T>;
  }

  /**
   * Like {@link run}, for a task that says itself when it is done: it calls
   * `turn.release()` exactly once (in a `finally`), which frees the key for
   * the next task. The queue then hangs no reaction of its own on the task's
   * promise (one promise and one microtask less per task), and `arg` spares
   * the caller a closure per task: this is the hub's per-event path.
   */
  runReleasing<A, T>(key: string, task: (turn: QueueTurn, arg: A) => Promise<T>, arg: A): Promise<T> {
    const prev = this.#tails.get(key);
    const turn = new QueueTurn(this.#tails, key);
    // Run after the previous task settles either way (its caller handles its outcome).
    const result = prev ? prev.then(() => task(turn, arg), () => task(turn, arg)) : task(turn, arg);
    turn.hold(result);
    return result;
  }

  /** Whether a task of `key` is queued or running. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }

  /** Resolves when every task queued so far (for every key) has settled. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.allSettled([...this.#tails.values()]);
  }
}

/** A task's place in its key's line (see {@link KeyedSerialQueue.runReleasing}). */
export class QueueTurn {
  readonly #tails: Map<string, Promise<unknown>>;
  readonly #key: string;
  #result: Promise<unknown> | undefined;
  #released = false;

  constructor(tails: Map<string, Promise<unknown>>, key: string) {
    this.#tails = tails;
    this.#key = key;
  }

  /** Makes the task's promise the key's tail, unless the task failed (and released) before its first await. */
  hold(result: Promise<unknown>): void {
    this.#result = result;
    if (!this.#released) this.#tails.set(this.#key, result);
  }

  /** Frees the key, unless a later task is queued behind this one. */
  release(): void {
    this.#released = true;
    if (this.#result !== undefined && this.#tails.get(this.#key) === this.#result) this.#tails.delete(this.#key);
  }
}

function runWatched(turn: QueueTurn, task: () => Promise<unknown>): Promise<unknown> {
  const result = task();
  const release = () => turn.release();
  result.then(release, release);
  return result;
}
