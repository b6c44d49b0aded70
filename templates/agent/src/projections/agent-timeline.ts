import { AgentEntities, type AgentTimelineProjectionCases } from "../gen/agent/v1/agent_sessionstream.js";
import { answerId, callsAtEnd, errorId, message, planAtEnd, planWithStep, reasoning, toolCall, userMessageId } from "./agent-state.js";

/**
 * Timeline projection of agent/v1/agent.proto: the durable entities a reload
 * shows (messages, the run, its plan, reasoning segments, tool calls, errors),
 * including whatever is still streaming.
 */
export const agentTimelineCases: AgentTimelineProjectionCases = {
  AgentRunStarted(event) {
    const { runId, prompt, model } = event.payload;
    return [
      AgentEntities.AgentMessage.upsert({ messageId: userMessageId(runId), runId, role: "user", text: prompt, status: "finished" }),
      AgentEntities.AgentRun.upsert({ runId, status: "running", model }),
    ];
  },
  AgentPlanUpdated(event) {
    return [AgentEntities.AgentPlan.upsert({ runId: event.payload.runId, steps: event.payload.steps })];
  },
  AgentReasoningDelta(event, session, view) {
    const { runId, segmentId, chunk } = event.payload;
    return [AgentEntities.AgentReasoning.upsert({ segmentId, runId, text: (reasoning(view, segmentId)?.text ?? "") + chunk })];
  },
  AgentToolCallStarted(event, session, view) {
    const { runId, callId, tool, arguments: args, planStep } = event.payload;
    const steps = planWithStep(view, runId, planStep, "active");
    return [
      AgentEntities.AgentToolCall.upsert({ callId, runId, tool, arguments: args, status: "running", planStep }),
      ...(steps ? [AgentEntities.AgentPlan.upsert({ runId, steps })] : []),
    ];
  },
  AgentToolCallArgumentsDelta(event, session, view) {
    const { callId, chunk } = event.payload;
    const call = toolCall(view, callId);
    if (!call) return [];
    return [AgentEntities.AgentToolCall.upsert({ ...call, arguments: call.arguments + chunk })];
  },
  AgentToolCallFinished(event, session, view) {
    const { runId, callId, result, error } = event.payload;
    const call = toolCall(view, callId);
    if (!call) return [];
    const steps = error ? undefined : planWithStep(view, runId, call.planStep, "done");
    return [
      AgentEntities.AgentToolCall.upsert({ ...call, status: error ? "failed" : "succeeded", result, error }),
      ...(steps ? [AgentEntities.AgentPlan.upsert({ runId, steps })] : []),
    ];
  },
  AgentAnswerDelta(event, session, view) {
    const { runId, messageId, chunk } = event.payload;
    const text = (message(view, messageId)?.text ?? "") + chunk;
    return [AgentEntities.AgentMessage.upsert({ messageId, runId, role: "assistant", text, status: "streaming" })];
  },
  AgentRunEnded(event, session, view) {
    const { runId, status, finishReason, error } = event.payload;
    const run = view.get("AgentRun", runId)?.payload as { model?: string } | undefined;
    const answer = message(view, answerId(runId));
    const steps = planAtEnd(view, runId, status);
    return [
      AgentEntities.AgentRun.upsert({ runId, status, model: run?.model ?? "", finishReason }),
      ...(answer ? [AgentEntities.AgentMessage.upsert({ ...answer, status })] : []),
      ...(steps ? [AgentEntities.AgentPlan.upsert({ runId, steps })] : []),
      ...callsAtEnd(view, runId, status).map((call) => AgentEntities.AgentToolCall.upsert(call)),
      ...(error ? [AgentEntities.AgentError.upsert({ errorId: errorId(runId), runId, message: error })] : []),
    ];
  },
};
