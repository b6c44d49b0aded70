// The agent's run kind: each agent run is a hub run (recorded in the store,
// with an owner and a state), so `AgentStopRun` reaches it wherever and
// whenever it was started (also after a restart), and a run whose process
// died (a crash, kill -9, a deploy, a `dev` restart) ends `interrupted` at the
// next start instead of showing "running" forever. The hooks publish the one
// terminal event, `AgentRunEnded`, however the run ends.
import type { AppEventPublisher, AppHub } from "./gen/app_sessionstream.js";
import type { AgentModel } from "./model.js";

/** The run kind of an agent run. */
export const AGENT_RUN = "agent.run";

function runIdOf(run: { readonly data: Readonly<Record<string, unknown>> }): string {
  return String(run.data["runId"]);
}

/** Registers the run kind and the hooks that end a run. Call it in `createApp`, before the hub serves. */
export function registerAgentRuns(hub: AppHub): void {
  hub.registerRunKind(AGENT_RUN, {
    finished: async (run, publisher, finishReason) => {
      await publisher.publish("AgentRunEnded", { runId: runIdOf(run), status: "finished", finishReason: typeof finishReason === "string" ? finishReason : "" });
    },
    stopped: async (run, publisher) => {
      await publisher.publish("AgentRunEnded", { runId: runIdOf(run), status: "stopped" });
    },
    failed: async (run, publisher, error) => {
      await publisher.publish("AgentRunEnded", { runId: runIdOf(run), status: "failed", error: error.message });
    },
    interrupted: async (run, publisher) => {
      await publisher.publish("AgentRunEnded", { runId: runIdOf(run), status: "interrupted" });
    },
  });
}

/**
 * The work of a run: records the task (the user's message and the run,
 * `running`), then lets `model` drive it with the run's signal (aborted by a
 * stop or a shutdown); resolves with the model's finish reason. It runs
 * detached from the command and from any socket.
 */
export function runWork(model: AgentModel, runId: string, prompt: string) {
  return async (run: { readonly sessionId: string; readonly signal: AbortSignal; readonly publish: AppEventPublisher["publish"] }): Promise<string> => {
    const publisher: AppEventPublisher = { sessionId: run.sessionId, publish: run.publish };
    await publisher.publish("AgentRunStarted", { runId, prompt, model: model.name });
    return model.run({ publisher, runId, prompt, signal: run.signal });
  };
}
