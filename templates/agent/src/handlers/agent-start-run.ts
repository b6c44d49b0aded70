import { randomUUID } from "node:crypto";
import type { AgentCommandHandler, AgentRunKind } from "../gen/agent/v1/agent_sessionstream.js";
import type { AppEventPublisher } from "../gen/app_sessionstream.js";
import { currentModel } from "../model.js";
import type { AgentRunData } from "../runs/agent-run.js";

/**
 * Handles the command "AgentStartRun": starts a run of kind "agent.run",
 * recorded in the store, and returns at once; the run continues in the
 * background whatever happens to the socket, the hooks in
 * src/runs/agent-run.ts publish how it ended (`AgentRunEnded`), and if the
 * process dies mid-run the next start marks it `interrupted` (never "running"
 * forever).
 */
export const agentStartRun: AgentCommandHandler<"AgentStartRun"> = async (command, session, publisher) => {
  const runId = `run-${randomUUID().slice(0, 8)}`;
  const { prompt } = command.payload;
  // The fake model unless MODEL and OPENAI_BASE_URL (or OPENAI_API_KEY) are set.
  const model = currentModel();
  // The work runs detached from the command and from any socket: it records the
  // task (the user's message and the run, `running`), then lets the model drive
  // it with the run's signal (aborted by a stop or a shutdown) and resolves with
  // the model's finish reason.
  await publisher.startRun({ kind: "agent.run" satisfies AgentRunKind, runId, data: { runId } satisfies AgentRunData }, async ({ sessionId, signal, publish }) => {
    const run: AppEventPublisher = { sessionId, publish };
    await run.publish("AgentRunStarted", { runId, prompt, model: model.name });
    return model.run({ publisher: run, runId, prompt, signal });
  });
};
