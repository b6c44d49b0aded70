// The agent's run kind, "agent.run": each agent run is a hub run (recorded in
// the store, with an owner and a state), so `AgentStopRun` reaches it wherever
// and whenever it was started (also after a restart), and a run whose process
// died (a crash, kill -9, a deploy, a `dev` restart) ends `interrupted` at the
// next start instead of showing "running" forever. The proto says so
// (`AgentStartRun` has `starts_run: "agent.run"`, `AgentRunEnded` has
// `ends_runs: "agent.run"`), `sessionstream gen` wrote this file as a hooks
// stub and `app.ts` registers it with the generated `registerAppRunKinds`,
// which fails to compile without hooks for every kind.
import type { AppRunKindHooks } from "../gen/app_sessionstream.js";

/** What an agent run records (`startRun`'s `data`): enough for the hooks to name the run. */
export interface AgentRunData {
  readonly runId: string;
}

function runIdOf(run: { readonly data: Readonly<Record<string, unknown>> }): string {
  return String((run.data as unknown as AgentRunData).runId);
}

/**
 * How runs of kind "agent.run" end. Started by AgentStartRun.
 * The runtime calls exactly one hook, once, per run; each publishes the one terminal event,
 * `AgentRunEnded` with the run's status, so that no run is left "running" after a stop, a failure
 * or a crash (its projections also close the run's open plan steps and tool calls).
 * Terminal events (ends_runs: "agent.run"): AgentRunEnded.
 * This file is yours: `sessionstream gen` never rewrites it.
 */
export const agentRunHooks: AppRunKindHooks = {
  async finished(run, publisher, finishReason) {
    // The work (src/handlers/agent-start-run.ts) resolved with the model's finish reason.
    await publisher.publish("AgentRunEnded", { runId: runIdOf(run), status: "finished", finishReason: typeof finishReason === "string" ? finishReason : "" });
  },
  async stopped(run, publisher) {
    await publisher.publish("AgentRunEnded", { runId: runIdOf(run), status: "stopped" });
  },
  async failed(run, publisher, error) {
    await publisher.publish("AgentRunEnded", { runId: runIdOf(run), status: "failed", error: error.message });
  },
  async interrupted(run, publisher) {
    await publisher.publish("AgentRunEnded", { runId: runIdOf(run), status: "interrupted" });
  },
};
