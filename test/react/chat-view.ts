// A small chat view over useSession, rendered with createElement (no JSX in the repo's TypeScript setup).
import { createElement, type ReactNode } from "react";
import { useSession, type UseSessionResult } from "../../src/react/index.js";
import { chatReducer, type ChatJson } from "./server.js";

export interface ChatProps {
  readonly sessionId: string;
  /** Every status rendered, in order. */
  readonly statuses?: string[];
  /** Receives the hook's result on every render. */
  readonly onResult?: (result: UseSessionResult) => void;
  readonly label?: string;
}

export function Chat({ sessionId, statuses, onResult, label = "chat" }: ChatProps): ReactNode {
  const session = useSession(sessionId, { reduce: chatReducer });
  statuses?.push(session.status);
  onResult?.(session);
  return createElement(
    "section",
    { "data-testid": label },
    createElement("p", { "data-testid": `${label}-status` }, session.status),
    createElement("p", { "data-testid": `${label}-resume` }, session.resume?.kind ?? "none"),
    createElement(
      "ul",
      null,
      session.list<ChatJson>("ChatMessage").map((e) => createElement("li", { key: e.id }, `${e.id}:${e.payload.status}:${e.payload.text ?? ""}`)),
    ),
  );
}

/** Consecutive duplicates dropped. */
export function transitions(values: readonly string[]): string[] {
  return values.filter((v, i) => i === 0 || v !== values[i - 1]);
}

/** Entities of a hook result as the server's snapshot spells them (type names dropped: the reducer does not set them). */
export function hookEntities(result: UseSessionResult) {
  return [...result.state.entities.values()].flatMap((m) => [...m.values()]).map(({ typeName: _t, ...rest }) => rest);
}
