import type { ClientEntity, SessionViewState } from "../transport/client/index.js";

/**
 * The entities of one kind in a session state, in timeline order
 * (`createdOrdinal`, then id). Reads the immutable state, so it is safe in
 * render (unlike `view.list`, which reads the live view).
 */
export function listEntities<P = unknown>(state: SessionViewState, kind: string): ClientEntity<P>[] {
  const byId = state.entities.get(kind);
  if (!byId) return [];
  return ([...byId.values()] as ClientEntity<P>[]).sort((a, b) =>
    a.createdOrdinal !== b.createdOrdinal ? (a.createdOrdinal < b.createdOrdinal ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
}
