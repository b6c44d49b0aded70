// Client-side mirror of the timeline projection (src/projections/agent-timeline.ts):
// folds the live UI events into the entities the snapshot delivered (messages,
// the run, its plan, reasoning segments, tool calls, errors). One source for
// the page (agent.js), the app's tests and the drift check of `sessionstream
// dev`, which finds it through the `reduce` export of src/app.ts.
// Payloads are protobuf JSON: empty fields are left out.

/** The fields that are set: protobuf JSON leaves empty ones out, and so does the page's copy. */
function defined(fields) {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** @type {import("sessionstream/client").UIReducer} */
export function reduce(draft, event) {
  const p = event.payload;
  switch (event.name) {
    case "AgentUserMessageAdded":
      draft.set("AgentMessage", p.messageId, { messageId: p.messageId, runId: p.runId, role: "user", text: p.text ?? "", status: "finished" });
      break;
    case "AgentAnswerAppended": {
      const m = draft.get("AgentMessage", p.messageId)?.payload ?? { messageId: p.messageId, runId: p.runId, role: "assistant", text: "" };
      draft.set("AgentMessage", p.messageId, { ...m, text: (m.text ?? "") + (p.text ?? ""), status: "streaming" });
      break;
    }
    case "AgentAnswerEnded": {
      const m = draft.get("AgentMessage", p.messageId)?.payload;
      if (m) draft.set("AgentMessage", p.messageId, { ...m, status: p.status });
      break;
    }
    case "AgentRunStatusChanged":
      draft.set("AgentRun", p.runId, defined({ runId: p.runId, status: p.status, model: p.model, finishReason: p.finishReason }));
      break;
    case "AgentPlanChanged":
      draft.set("AgentPlan", p.runId, { runId: p.runId, steps: p.steps ?? [] });
      break;
    case "AgentReasoningAppended": {
      const r = draft.get("AgentReasoning", p.segmentId)?.payload ?? { segmentId: p.segmentId, runId: p.runId, text: "" };
      draft.set("AgentReasoning", p.segmentId, { ...r, text: (r.text ?? "") + (p.chunk ?? "") });
      break;
    }
    case "AgentToolCallChanged": {
      const c = draft.get("AgentToolCall", p.callId)?.payload ?? {};
      draft.set("AgentToolCall", p.callId, { ...c, ...p });
      break;
    }
    case "AgentToolCallArgumentsAppended": {
      const c = draft.get("AgentToolCall", p.callId)?.payload;
      if (c) draft.set("AgentToolCall", p.callId, { ...c, arguments: (c.arguments ?? "") + (p.arguments ?? "") });
      break;
    }
    case "AgentErrorAdded":
      draft.set("AgentError", p.errorId, { errorId: p.errorId, runId: p.runId, message: p.message });
      break;
  }
}
