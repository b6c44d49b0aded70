import { SessionstreamError } from "sessionstream";
import type { AgentCommandHandler } from "../gen/agent/v1/agent_sessionstream.js";

/**
 * Handles the command "AgentStopRun": stops the run through the hub (a real
 * model's HTTP stream is aborted by the run's signal); its `stopped` hook
 * publishes `AgentRunEnded { status: "stopped" }`. A run a previous process
 * left is found in the store, so a stop works after a restart too. A run
 * that is over is not silently ignored: the command fails with `run_over`
 * (or `invalid_argument` for an id that is no run of this session).
 */
export const agentStopRun: AgentCommandHandler<"AgentStopRun"> = async (command, session, publisher) => {
  const { runId } = command.payload;
  const result = await publisher.stopRun(runId);
  if (result.state === "unknown") throw new SessionstreamError("invalid_argument", `no run "${runId}" in session "${session.id}"`);
  // `requested`: the run lives in another live process, which stops it at its next heartbeat.
  if (!result.stopped && !result.requested) throw new SessionstreamError("run_over", `the run "${runId}" already ended (${result.state}): nothing to stop`);
};
