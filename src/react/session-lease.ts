// Reference-counted session subscriptions per client. Components that show
// the same session share one view (and one subscription on the wire); the
// last release closes it after the current task, so StrictMode's
// unsubscribe-then-subscribe of the same effect, or a remount within the same
// task, keeps the subscription instead of sending `unsubscribe` + `subscribe`.
import type { SessionstreamClient } from "../transport/client/index.js";
import type { SessionView, SubscribeOptions } from "../transport/client/index.js";

interface Lease {
  readonly view: SessionView;
  refs: number;
  closeTimer: ReturnType<typeof setTimeout> | undefined;
}

const leases = new WeakMap<SessionstreamClient, Map<string, Lease>>();

function table(client: SessionstreamClient): Map<string, Lease> {
  let t = leases.get(client);
  if (!t) leases.set(client, (t = new Map()));
  return t;
}

/** The view a hook holds for this session, if any (read during render: no side effects). */
export function peekView(client: SessionstreamClient, sessionId: string): SessionView | undefined {
  return leases.get(client)?.get(sessionId)?.view;
}

/**
 * Takes a reference on the session's view, subscribing it on first use.
 * Returns the view and the function that gives the reference back (idempotent).
 * `options` (the reducer) apply only when this call opens the subscription.
 */
export function acquireView(client: SessionstreamClient, sessionId: string, options: SubscribeOptions): { view: SessionView; release: () => void } {
  const t = table(client);
  let lease = t.get(sessionId);
  // A view closed under us (view.close() by the app) is reopened, unless the whole client is closed.
  if (lease && lease.view.status === "closed" && client.status !== "closed") {
    clearTimeout(lease.closeTimer);
    t.delete(sessionId);
    lease = undefined;
  }
  if (!lease) {
    lease = { view: client.subscribe(sessionId, options), refs: 0, closeTimer: undefined };
    t.set(sessionId, lease);
  }
  const held = lease;
  held.refs++;
  clearTimeout(held.closeTimer);
  held.closeTimer = undefined;
  let released = false;
  return {
    view: held.view,
    release() {
      if (released) return;
      released = true;
      if (--held.refs > 0) return;
      held.closeTimer = setTimeout(() => {
        if (held.refs > 0 || t.get(sessionId) !== held) return;
        t.delete(sessionId);
        held.view.close();
      }, 0);
    },
  };
}
