import { randomUUID } from "node:crypto";
import type { AgentCommandHandler } from "../gen/agent/v1/agent_sessionstream.js";
import { currentModel } from "../model.js";
import { AGENT_RUN, runWork } from "../runs.js";

/**
 * Handles the command "AgentStartRun": starts the run (src/runs.ts), recorded
 * in the store, and returns at once; the run continues in the background
 * whatever happens to the socket, and if the process dies mid-run the next
 * start marks it `interrupted` (never "running" forever).
 */
export const agentStartRun: AgentCommandHandler<"AgentStartRun"> = async (command, session, publisher) => {
  const runId = `run-${randomUUID().slice(0, 8)}`;
  // The fake model unless MODEL and OPENAI_BASE_URL (or OPENAI_API_KEY) are set.
  const model = currentModel();
  await publisher.startRun({ kind: AGENT_RUN, runId, data: { runId } }, runWork(model, runId, command.payload.prompt));
};
