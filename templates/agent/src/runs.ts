// Runs in progress, each with an AbortController: `AgentStopRun` aborts it
// (for a real model this aborts the HTTP stream), and the run ends with
// `AgentRunEnded { status: "stopped" }`. Runs are detached from commands and
// sockets: closing the page never stops one.
import type { AppEventPublisher } from "./gen/app_sessionstream.js";
import type { AgentModel } from "./model.js";

const running = new Map<string, AbortController>();

/** Asks the run `runId` to stop; false when it is not running (in this process). */
export function stopRun(runId: string): boolean {
  const controller = running.get(runId);
  controller?.abort(new Error("stopped by the user"));
  return controller !== undefined;
}

/** Drives one run to its end with `model`, then publishes `AgentRunEnded`. */
export async function driveRun(publisher: AppEventPublisher, model: AgentModel, runId: string, prompt: string): Promise<void> {
  const controller = new AbortController();
  running.set(runId, controller);
  let ended: { status: string; finishReason?: string; error?: string };
  try {
    const finishReason = await model.run({ publisher, runId, prompt, signal: controller.signal });
    ended = { status: "finished", finishReason };
  } catch (err) {
    ended = controller.signal.aborted ? { status: "stopped" } : { status: "failed", error: (err as Error).message };
  } finally {
    running.delete(runId);
  }
  try {
    await publisher.publish("AgentRunEnded", { runId, ...ended });
  } catch (err) {
    // The hub closed under us (dev reload, shutdown): what streamed so far is already durable.
    console.warn(`agent: run ${runId} ended early: ${(err as Error).message}`);
  }
}
