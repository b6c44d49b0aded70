import type { AgentCommandHandler } from "../gen/agent/v1/agent_sessionstream.js";
import { stopRun } from "../runs.js";

/**
 * Handles the command "AgentStopRun": aborts the run (a real model's HTTP
 * stream too); the run then publishes `AgentRunEnded { status: "stopped" }`.
 */
export const agentStopRun: AgentCommandHandler<"AgentStopRun"> = async (command) => {
  stopRun(command.payload.runId);
};
