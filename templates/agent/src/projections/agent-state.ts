// What an event does to the timeline, computed once and used by both
// projections: the timeline stores the result, the UI projection sends it
// (or the delta) live, so a reload and a live page always agree.
import type { TimelineView } from "sessionstream";
import type { AgentMessageEntity, AgentPlanEntity, AgentReasoningEntity, AgentToolCallEntity, PlanStep } from "../gen/agent/v1/agent_pb.js";

type Steps = Array<Pick<PlanStep, "title" | "status">>;

export function toolCall(view: TimelineView, callId: string): AgentToolCallEntity | undefined {
  return view.get("AgentToolCall", callId)?.payload as AgentToolCallEntity | undefined;
}

export function message(view: TimelineView, messageId: string): AgentMessageEntity | undefined {
  return view.get("AgentMessage", messageId)?.payload as AgentMessageEntity | undefined;
}

export function reasoning(view: TimelineView, segmentId: string): AgentReasoningEntity | undefined {
  return view.get("AgentReasoning", segmentId)?.payload as AgentReasoningEntity | undefined;
}

/** The plan's steps with step `index` set to `status` (unchanged when there is no such step). */
export function planWithStep(view: TimelineView, runId: string, index: number, status: string): Steps | undefined {
  const plan = view.get("AgentPlan", runId)?.payload as AgentPlanEntity | undefined;
  if (!plan || index < 0 || index >= plan.steps.length) return undefined;
  return plan.steps.map((s, i) => ({ title: s.title, status: i === index ? status : s.status }));
}

/** The plan when the run ends: every step done when it finished, open steps marked stopped/failed otherwise. */
export function planAtEnd(view: TimelineView, runId: string, runStatus: string): Steps | undefined {
  const plan = view.get("AgentPlan", runId)?.payload as AgentPlanEntity | undefined;
  if (!plan) return undefined;
  return plan.steps.map((s) => ({
    title: s.title,
    status: runStatus === "finished" ? "done" : s.status === "done" ? "done" : runStatus,
  }));
}

/** The run's tool calls still running when it ends early, with the run's status: nothing is left looking alive. */
export function callsAtEnd(view: TimelineView, runId: string, runStatus: string): AgentToolCallEntity[] {
  return view
    .list("AgentToolCall")
    .map((e) => e.payload as AgentToolCallEntity)
    .filter((c) => c.runId === runId && c.status === "running")
    .map((c) => ({ ...c, status: runStatus }));
}

/** The answer's message id of a run (it exists once the first chunk streamed). */
export function answerId(runId: string): string {
  return `answer-${runId}`;
}

export function errorId(runId: string): string {
  return `error-${runId}`;
}

export function userMessageId(runId: string): string {
  return `user-${runId}`;
}
