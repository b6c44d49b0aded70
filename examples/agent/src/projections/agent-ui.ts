import type { AgentUIProjectionCases } from "../gen/agent/v1/agent_sessionstream.js";
import { answerId, callsAtEnd, errorId, planAtEnd, planWithStep, toolCall, userMessageId } from "./agent-state.js";

/**
 * UI projection of agent/v1/agent.proto: the live updates the page folds into
 * its copy of the timeline (see public/agent.js). One backend event often
 * means several UI events: a tool call that finishes also advances the plan.
 */
export const agentUICases: AgentUIProjectionCases = {
  AgentRunStarted(event) {
    const { runId, prompt, model } = event.payload;
    return [
      { name: "AgentUserMessageAdded", payload: { messageId: userMessageId(runId), runId, role: "user", text: prompt, status: "finished" } },
      { name: "AgentRunStatusChanged", payload: { runId, status: "running", model } },
    ];
  },
  AgentPlanUpdated(event) {
    return [{ name: "AgentPlanChanged", payload: { runId: event.payload.runId, steps: event.payload.steps } }];
  },
  AgentReasoningDelta(event) {
    const { runId, segmentId, chunk } = event.payload;
    return [{ name: "AgentReasoningAppended", payload: { runId, segmentId, chunk } }];
  },
  AgentToolCallStarted(event, session, view) {
    const { runId, callId, tool, arguments: args, planStep } = event.payload;
    const steps = planWithStep(view, runId, planStep, "active");
    return [
      { name: "AgentToolCallChanged", payload: { callId, runId, tool, arguments: args, status: "running", planStep } },
      ...(steps ? [{ name: "AgentPlanChanged" as const, payload: { runId, steps } }] : []),
    ];
  },
  AgentToolCallArgumentsDelta(event) {
    const { runId, callId, chunk } = event.payload;
    return [{ name: "AgentToolCallArgumentsAppended", payload: { callId, runId, arguments: chunk } }];
  },
  AgentToolCallFinished(event, session, view) {
    const { runId, callId, result, error } = event.payload;
    const call = toolCall(view, callId);
    if (!call) return [];
    const steps = error ? undefined : planWithStep(view, runId, call.planStep, "done");
    return [
      {
        name: "AgentToolCallChanged",
        payload: { callId, runId, tool: call.tool, arguments: call.arguments, status: error ? "failed" : "succeeded", result, error, planStep: call.planStep },
      },
      ...(steps ? [{ name: "AgentPlanChanged" as const, payload: { runId, steps } }] : []),
    ];
  },
  AgentAnswerDelta(event) {
    const { runId, messageId, chunk } = event.payload;
    return [{ name: "AgentAnswerAppended", payload: { messageId, runId, role: "assistant", text: chunk, status: "streaming" } }];
  },
  AgentRunEnded(event, session, view) {
    const { runId, status, finishReason, error } = event.payload;
    const run = view.get("AgentRun", runId)?.payload as { model?: string } | undefined;
    const steps = planAtEnd(view, runId, status);
    return [
      { name: "AgentRunStatusChanged", payload: { runId, status, model: run?.model ?? "", finishReason } },
      ...(view.get("AgentMessage", answerId(runId)) ? [{ name: "AgentAnswerEnded" as const, payload: { messageId: answerId(runId), runId, status } }] : []),
      ...(steps ? [{ name: "AgentPlanChanged" as const, payload: { runId, steps } }] : []),
      ...callsAtEnd(view, runId, status).map(({ callId, tool, arguments: args, status: callStatus, result, error: callError, planStep }) => ({
        name: "AgentToolCallChanged" as const,
        payload: { callId, runId, tool, arguments: args, status: callStatus, result, error: callError, planStep },
      })),
      ...(error ? [{ name: "AgentErrorAdded" as const, payload: { errorId: errorId(runId), runId, message: error } }] : []),
    ];
  },
};
