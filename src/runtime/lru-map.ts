interface Entry<V> {
  value: V;
  /** Used since the eviction order last passed this entry (the CLOCK algorithm's reference bit). */
  used: boolean;
}

/**
 * A map that offers its least recently used entries for eviction first,
 * approximately: the CLOCK ("second chance") algorithm. `touch` only sets a
 * flag on the entry, because the hub touches a session on every event: an
 * exact LRU list relinks neighbouring entries each time, which costs cache
 * misses with many sessions. Entries wait in insertion order; an entry used
 * since the eviction order last passed it goes to the back instead of being
 * offered.
 */
export class LruMap<K, V> {
  // Insertion order is the clock's order: the front is the next to be considered.
  readonly #entries = new Map<K, Entry<V>>();

  get size(): number {
    return this.#entries.size;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** The value, without marking it used. */
  get(key: K): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /** The value, marking it used. */
  touch(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.value;
  }

  /** Sets the value: a new key goes to the back, an existing one is marked used. */
  set(key: K, value: V): void {
    const entry = this.#entries.get(key);
    if (entry) {
      entry.value = value;
      entry.used = true;
      return;
    }
    this.#entries.set(key, { value, used: false });
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  /** Keys in the clock's order (insertion order, entries given a second chance moved to the back). */
  keys(): IterableIterator<K> {
    return this.#entries.keys();
  }

  /** Values in the clock's order. */
  *values(): IterableIterator<V> {
    for (const entry of this.#entries.values()) yield entry.value;
  }

  /**
   * Keys to evict, least recently used first (approximately): an entry used
   * since it was last passed has its flag cleared and moves to the back; it
   * is offered when the order reaches it again unused. Ends after offering
   * every key once (a caller that skips keys it must keep terminates);
   * deleting the key just offered is safe.
   */
  *evictionOrder(): IterableIterator<K> {
    // Each entry moves at most once per pass, even one touched meanwhile.
    let moves = this.#entries.size;
    for (const [key, entry] of this.#entries) {
      if (entry.used && moves > 0) {
        moves--;
        // Map iteration reaches the re-added key again, its flag cleared.
        entry.used = false;
        this.#entries.delete(key);
        this.#entries.set(key, entry);
        continue;
      }
      yield key;
    }
  }
}
