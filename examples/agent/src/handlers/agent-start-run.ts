import { randomUUID } from "node:crypto";
import type { AgentCommandHandler } from "../gen/agent/v1/agent_sessionstream.js";
import { currentModel } from "../model.js";
import { driveRun } from "../runs.js";

/**
 * Handles the command "AgentStartRun": records the task and starts the run,
 * which continues in the background whatever happens to the socket.
 */
export const agentStartRun: AgentCommandHandler<"AgentStartRun"> = async (command, session, publisher) => {
  const runId = `run-${randomUUID().slice(0, 8)}`;
  // The fake model unless MODEL and OPENAI_BASE_URL (or OPENAI_API_KEY) are set.
  const model = currentModel();
  await publisher.publish("AgentRunStarted", { runId, prompt: command.payload.prompt, model: model.name });
  void driveRun(publisher, model, runId, command.payload.prompt);
};
