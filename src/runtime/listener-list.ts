/**
 * A set of listeners kept as an array for iteration: the hub delivers every
 * event to its fanouts and observers, and iterating a `Set` per event costs
 * more than an array's indexed loop. Adding and removing (rare) copy the array,
 * so a delivery in progress keeps iterating the list it started with.
 */
export class ListenerList<T> {
  #items: readonly T[] = [];

  /** The listeners, in the order added. Do not keep it across an add or remove. */
  get items(): readonly T[] {
    return this.#items;
  }

  get size(): number {
    return this.#items.length;
  }

  /** Adds `item` (once); returns a function that removes it. */
  add(item: T): () => void {
    if (!this.#items.includes(item)) this.#items = [...this.#items, item];
    return () => this.delete(item);
  }

  delete(item: T): boolean {
    const at = this.#items.indexOf(item);
    if (at < 0) return false;
    this.#items = this.#items.filter((_, i) => i !== at);
    return true;
  }
}
