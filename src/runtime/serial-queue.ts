/**
 * Runs tasks one at a time per key, in submission order; different keys run
 * concurrently. A failed task does not stop the ones queued after it.
 */
export class KeyedSerialQueue {
  // The last task's promise per key; deleted when the key goes idle.
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key);
    // Run after the previous task settles either way (its caller handles its outcome).
    const result = prev ? prev.then(task, task) : task();
    this.#tails.set(key, result);
    const release = () => {
      if (this.#tails.get(key) === result) this.#tails.delete(key);
    };
    result.then(release, release);
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
