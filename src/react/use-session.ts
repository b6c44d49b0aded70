import { useCallback, useMemo, useSyncExternalStore } from "react";
import type { ClientEntity, ResumeInfo, SessionStatus, SessionViewState, SessionstreamClient, UIReducer } from "../transport/client/index.js";
import { useSessionstreamClient } from "./context.js";
import { listEntities } from "./entities.js";
import { acquireView, peekView } from "./session-lease.js";

/** Options of {@link useSession}. */
export interface UseSessionOptions {
  /**
   * Folds live UI events into the entities (see `UIReducer` in
   * "sessionstream/client"). Define it at module scope: it is taken when the
   * session is subscribed, and components showing the same session share one
   * subscription, the reducer of the first. Default: none (entities change
   * only with snapshots).
   */
  readonly reduce?: UIReducer;
  /** The client to use instead of the {@link SessionstreamProvider}'s. */
  readonly client?: SessionstreamClient;
}

/** What {@link useSession} returns; a new object only when the session's state changed. */
export interface UseSessionResult {
  /** The session's state: the reduced timeline (`entities` by kind then id), `ordinal`, `snapshotOrdinal`; the same object until it changes. */
  readonly state: SessionViewState;
  /**
   * `connecting` (no socket, or waiting to resubscribe after a drop),
   * `hydrating` (subscribed, snapshot on its way or applied, live frames not
   * yet), `live`, `error` (see `error`), or `closed` (the client was closed).
   */
  readonly status: SessionStatus;
  /** Set when `status` is `error` (e.g. `forbidden`, or a frame that could not be handled). */
  readonly error: SessionViewState["error"] | undefined;
  /** How the last snapshot was satisfied: `recovered` (delta), `snapshot` (full) or `reset` (epoch changed); `undefined` before the first. */
  readonly resume: ResumeInfo | undefined;
  /** Entities of one kind in timeline order (`createdOrdinal`, then id), from `state`. */
  list<P = unknown>(kind: string): ClientEntity<P>[];
}

const EMPTY: ReadonlyMap<string, ReadonlyMap<string, ClientEntity>> = new Map();

/**
 * Subscribes a session through the client and returns its state, status,
 * error and resume outcome, built on `useSyncExternalStore` over the
 * client's `SessionView`.
 *
 * The subscription is opened in the store's subscribe step (never during
 * render), shared by every component showing the same session on the same
 * client, and closed (`unsubscribe` on the wire) when the last of them
 * unmounts, after the current task: StrictMode's double effects and
 * remounts within a task keep the one subscription. Until the subscription
 * exists the state is an empty `connecting` state, the same object on every
 * call for a session id.
 */
export function useSession(sessionId: string, options: UseSessionOptions = {}): UseSessionResult {
  const client = useSessionstreamClient(options.client);
  const reduce = options.reduce;
  const initial = useMemo<SessionViewState>(
    () => Object.freeze({ sessionId, status: "connecting", ordinal: 0n, snapshotOrdinal: 0n, entities: EMPTY }),
    [sessionId],
  );
  const subscribe = useCallback(
    (onChange: () => void) => {
      const { view, release } = acquireView(client, sessionId, reduce ? { reduce } : {});
      const stop = view.subscribe(onChange);
      return () => {
        stop();
        release();
      };
    },
    // The reducer is read when the subscription opens; a new function identity per render must not resubscribe.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, sessionId],
  );
  const getSnapshot = useCallback(() => peekView(client, sessionId)?.getSnapshot() ?? initial, [client, sessionId, initial]);
  const state = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
  return useMemo(
    () => ({
      state,
      status: state.status,
      error: state.error,
      resume: state.resume,
      list: <P = unknown>(kind: string) => listEntities<P>(state, kind),
    }),
    [state],
  );
}
