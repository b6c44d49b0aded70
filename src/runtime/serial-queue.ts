/**
 * Runs tasks one at a time per key, in submission order; different keys run
 * concurrently. A failed task does not stop the ones queued after it.
 */
export class KeyedSerialQueue {
  // The last task's promise per key; deleted when the key goes idle.
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.runReleasing(key, (release) => {
      const result = task();
      result.then(release, release);
      return result;
    });
  }

  /**
   * Like {@link run}, for a task that says itself when it is done: it calls
   * `release` exactly once (in a `finally`), which frees the key for the
   * next task. The queue then hangs no reaction of its own on the task's
   * promise: one promise and one microtask less per task on the hot path.
   */
  runReleasing<T>(key: string, task: (release: () => void) => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key);
    let result: Promise<T> | undefined;
    let released = false;
    const release = () => {
      released = true;
      if (result !== undefined && this.#tails.get(key) === result) this.#tails.delete(key);
    };
    // Run after the previous task settles either way (its caller handles its outcome).
    result = prev ? prev.then(() => task(release), () => task(release)) : task(release);
    // A task that failed before its first await has released already.
    if (!released) this.#tails.set(key, result);
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
