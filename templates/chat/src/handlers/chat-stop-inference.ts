import { SessionstreamError } from "sessionstream";
import type { ChatCommandHandler } from "../gen/chat/v1/chat_sessionstream.js";
import { answerRunId } from "../runs/chat-answer.js";

/**
 * Handles the command "ChatStopInference": stops the answer's run (every
 * answer of the session when `messageId` is empty). The run's signal aborts
 * the stream at once and its `stopped` hook publishes `ChatInferenceStopped`;
 * a run a previous process left is found in the store, so a stop works after
 * a restart too. Stopping is a command, so a closed tab never stops a run.
 * An answer that is over is not silently ignored: the command fails with
 * `run_over` (or `invalid_argument` for a message that never ran here).
 */
export const chatStopInference: ChatCommandHandler<"ChatStopInference"> = async (command, session, publisher) => {
  const { messageId } = command.payload;
  if (!messageId) {
    await publisher.stopRuns();
    return;
  }
  const result = await publisher.stopRun(answerRunId(messageId));
  if (result.state === "unknown") {
    throw new SessionstreamError("invalid_argument", `no answer "${messageId}" in session "${session.id}"`);
  }
  // `requested`: the run lives in another live process, which stops it at its next heartbeat.
  if (!result.stopped && !result.requested) {
    throw new SessionstreamError("run_over", `the answer "${messageId}" already ended (${result.state}): nothing to stop`);
  }
};
