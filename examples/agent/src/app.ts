import { Hub, SchemaRegistry, type EventBus, type HubOptions, type HydrationStore, type RuntimeErrorReport, type UIFanout } from "sessionstream";
import { createAppRegistry, registerAppRunKinds } from "./gen/app_sessionstream.js";
import { registerAgentHandlers, agentUIProjection, agentTimelineProjection } from "./gen/agent/v1/agent_sessionstream.js";
import { agentUICases } from "./projections/agent-ui.js";
import { agentTimelineCases } from "./projections/agent-timeline.js";
import { agentStartRun } from "./handlers/agent-start-run.js";
import { agentStopRun } from "./handlers/agent-stop-run.js";
import { agentRunHooks } from "./runs/agent-run.js";

/**
 * The page's reducer (public/reduce.js, imported by public/agent.js): how live
 * UI events fold into the timeline entities. `sessionstream dev` finds it by
 * this export and checks continuously that the live fold equals the snapshot
 * (its drift check); the tests pass it to `expectLiveMatchesSnapshot`.
 */
export { reduce } from "../public/reduce.js";

/** Every logical name of the app (commands, events, UI events, timeline entities), from every proto file. */
export const registry = createAppRegistry();

/** What `sessionstream dev`, `sessionstream start` and tests may pass to {@link createApp}. */
export interface AppOptions {
  /** Default: in-memory. `dev` and `start` pass the store of `--store` (SQLite under .sessionstream/ by default). */
  readonly store?: HydrationStore;
  /** Default: in-process. `dev` and `start` pass the Redis Streams bus of `--bus` when several nodes share the sessions. */
  readonly bus?: EventBus;
  /** Receives runtime errors (`start` writes them as JSON log lines). Default: `console.error`. */
  readonly onError?: (report: RuntimeErrorReport) => void;
  /** Receives live UI events (`dev` passes its websocket server). */
  readonly fanout?: UIFanout;
  /** Any other hub option (error policy, session metadata, ...). */
  readonly hubOptions?: Partial<Omit<HubOptions<typeof registry extends SchemaRegistry<infer S> ? S : never>, "registry" | "store" | "fanout" | "bus" | "onError">>;
}

/**
 * Builds the app's hub with every schema, command handler, run kind and
 * projection wired. `dev` and `start` then call `hub.recoverRuns()`: runs a
 * dead process left running end `interrupted` through the run kind's hook.
 * This file is yours; `sessionstream gen` only adds the handlers of new commands and the hooks of new run kinds.
 */
export function createApp(options: AppOptions = {}) {
  const hub = new Hub({
    registry,
    ...options.hubOptions,
    ...(options.store ? { store: options.store } : {}),
    ...(options.fanout ? { fanout: options.fanout } : {}),
    ...(options.bus ? { bus: options.bus } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  registerAgentHandlers(hub, {
    AgentStartRun: agentStartRun,
    AgentStopRun: agentStopRun,
  });
  hub.registerUIProjection(agentUIProjection(agentUICases));
  hub.registerTimelineProjection(agentTimelineProjection(agentTimelineCases));
  // The run kinds of the protos (`starts_run`, `ends_runs`); leaving one out fails to compile.
  registerAppRunKinds(hub, {
    "agent.run": agentRunHooks,
  });
  return hub;
}

export default createApp;
