import { createContext, createElement, useContext, type ReactNode } from "react";
import { SessionstreamError } from "../transport/client/index.js";
import type { SessionstreamClient } from "../transport/client/index.js";

const ClientContext = createContext<SessionstreamClient | undefined>(undefined);

/** Props of {@link SessionstreamProvider}. */
export interface SessionstreamProviderProps {
  /** The client the hooks below use; create it once (module scope or a `useState` initialiser), not per render. */
  readonly client: SessionstreamClient;
  readonly children?: ReactNode;
}

/**
 * Makes a {@link SessionstreamClient} available to {@link useSession},
 * {@link useSubmit} and {@link useConnectionStatus} below it. The provider
 * does not own the client: closing it is the app's call.
 */
export function SessionstreamProvider(props: SessionstreamProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: props.client }, props.children);
}

/**
 * The client of the nearest {@link SessionstreamProvider}, or `explicit` when
 * given (hooks take an optional `client` option that wins over the context).
 * Throws `invalid_argument` when there is neither.
 */
export function useSessionstreamClient(explicit?: SessionstreamClient): SessionstreamClient {
  const fromContext = useContext(ClientContext);
  const client = explicit ?? fromContext;
  if (!client) {
    throw new SessionstreamError("invalid_argument", "no sessionstream client: wrap the tree in <SessionstreamProvider client={client}> or pass the client option");
  }
  return client;
}
