/** Options of {@link IdempotencyCache}. */
export interface IdempotencyOptions {
  /** How long an accepted key is remembered. Default 600000 ms (10 minutes). */
  readonly windowMs?: number;
  /** Keys remembered at most; the oldest is forgotten first. Default 10000. */
  readonly maxEntries?: number;
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A bounded, time-windowed map from idempotency key to the (possibly still
 * pending) answer of the first request that carried it. Concurrent repeats
 * share the pending answer, so a handler runs once per key.
 */
export class IdempotencyCache<T> {
  readonly #entries = new Map<string, { readonly answer: Promise<T>; readonly expiresAt: number }>();
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: IdempotencyOptions = {}) {
    this.#windowMs = options.windowMs ?? 600_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The remembered answer of `key`, unless it fell out of the window. */
  get(key: string): Promise<T> | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.answer;
  }

  /** Remembers the answer of `key`; `keep` decides, once it settles, whether it stays (e.g. only successes). */
  set(key: string, answer: Promise<T>, keep: (value: T) => boolean): void {
    this.#entries.delete(key);
    this.#entries.set(key, { answer, expiresAt: this.#now() + this.#windowMs });
    answer.then(
      (value) => {
        if (!keep(value)) this.#forget(key, answer);
      },
      () => this.#forget(key, answer),
    );
    this.#evict();
  }

  #forget(key: string, answer: Promise<T>): void {
    if (this.#entries.get(key)?.answer === answer) this.#entries.delete(key);
  }

  #evict(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && entry.expiresAt > now) break;
      this.#entries.delete(key);
    }
  }
}
