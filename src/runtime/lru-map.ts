interface Entry<K, V> {
  readonly key: K;
  value: V;
  prev: Entry<K, V> | undefined;
  next: Entry<K, V> | undefined;
}

/**
 * A map that keeps its entries in use order, least recently used first.
 * `touch` moves an entry to the back by relinking it: the hub touches a
 * session on every event, and a `Map` delete-and-set per touch churns the
 * table (tombstones, rehashing) with many sessions.
 */
export class LruMap<K, V> {
  readonly #entries = new Map<K, Entry<K, V>>();
  #oldest: Entry<K, V> | undefined;
  #newest: Entry<K, V> | undefined;

  get size(): number {
    return this.#entries.size;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** The value, without changing the use order. */
  get(key: K): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /** The value, marking it the most recently used. */
  touch(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry !== this.#newest) {
      this.#unlink(entry);
      this.#append(entry);
    }
    return entry?.value;
  }

  /** Sets the value and marks it the most recently used. */
  set(key: K, value: V): void {
    const entry = this.#entries.get(key);
    if (entry) {
      entry.value = value;
      this.touch(key);
      return;
    }
    const added: Entry<K, V> = { key, value, prev: undefined, next: undefined };
    this.#entries.set(key, added);
    this.#append(added);
  }

  delete(key: K): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#entries.delete(key);
    this.#unlink(entry);
    return true;
  }

  /** Keys, least recently used first. Deleting the key just returned is safe. */
  *keys(): IterableIterator<K> {
    for (let entry = this.#oldest; entry !== undefined; ) {
      const next = entry.next;
      yield entry.key;
      entry = next;
    }
  }

  /** Values, least recently used first. */
  *values(): IterableIterator<V> {
    for (let entry = this.#oldest; entry !== undefined; entry = entry.next) yield entry.value;
  }

  #unlink(entry: Entry<K, V>): void {
    if (entry.prev) entry.prev.next = entry.next;
    else this.#oldest = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.#newest = entry.prev;
    entry.prev = entry.next = undefined;
  }

  #append(entry: Entry<K, V>): void {
    entry.prev = this.#newest;
    if (this.#newest) this.#newest.next = entry;
    else this.#oldest = entry;
    this.#newest = entry;
  }
}
