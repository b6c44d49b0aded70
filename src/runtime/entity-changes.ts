import { entityKey, type TimelineEntity } from "./timeline.js";

// Beyond this many changes a key map finds earlier ones; below it a scan is
// cheaper than building a key string and a map for every event.
const SCAN_LIMIT = 8;

/**
 * The entity changes of one event, in first-seen order; a later change of
 * the same (kind, id) replaces the earlier one in place.
 */
export class EntityChanges {
  /** The changes; replaced (not pushed to) by the first, so one change is an array of one, not of 17 reserved slots. */
  list: TimelineEntity[] = [];
  #index: Map<string, number> | undefined;

  /** Position of the change of (kind, id), or -1. */
  indexOf(kind: string, id: string): number {
    if (this.#index) return this.#index.get(entityKey(kind, id)) ?? -1;
    const list = this.list;
    for (let i = 0; i < list.length; i++) if (list[i]!.id === id && list[i]!.kind === kind) return i;
    return -1;
  }

  /** Stores `entity` at `at` (from {@link indexOf}), or appends it when `at` is -1. */
  put(at: number, entity: TimelineEntity): void {
    if (at >= 0) {
      this.list[at] = entity;
      return;
    }
    if (this.list.length === 0) this.list = [entity];
    else this.list.push(entity);
    if (this.#index) this.#index.set(entityKey(entity.kind, entity.id), this.list.length - 1);
    else if (this.list.length > SCAN_LIMIT) this.#index = new Map(this.list.map((e, i) => [entityKey(e.kind, e.id), i]));
  }
}
