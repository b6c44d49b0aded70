import { useCallback, useSyncExternalStore } from "react";
import type { ConnectionStatus, SessionstreamClient } from "../transport/client/index.js";
import { useSessionstreamClient } from "./context.js";

/**
 * The client's connection status (`connecting`, `open`, `reconnecting`,
 * `closed`), e.g. for a "reconnecting..." banner. Per session, prefer the
 * `status` of {@link useSession}.
 */
export function useConnectionStatus(client?: SessionstreamClient): ConnectionStatus {
  const c = useSessionstreamClient(client);
  const subscribe = useCallback((onChange: () => void) => c.onStatus(onChange), [c]);
  const getSnapshot = useCallback(() => c.status, [c]);
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}
