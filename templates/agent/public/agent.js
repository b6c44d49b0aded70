// The agent page: the client library hydrates the session from a snapshot,
// then folds live UI events with reduce.js; a reload re-hydrates from the
// durable timeline. Every entity kind has its own rendering; the timeline is
// ordered by the ordinal that created each entity.
// `sessionstream dev` serves the client library under /__sessionstream/dist/.
import { createSessionstreamClient } from "/__sessionstream/dist/transport/client/index.js";
import { reduce } from "./reduce.js";

// The session lives in the URL, so a reload (or a second tab) shows the same run.
if (location.hash.length < 2) location.hash = `agent-${Math.random().toString(36).slice(2, 10)}`;
let sessionId = decodeURIComponent(location.hash.slice(1));

const client = createSessionstreamClient({ url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws` });
let view = client.subscribe(sessionId, { reduce });
let stopRendering = () => {};
const list = document.getElementById("timeline");
const status = document.getElementById("status");

// Entities created by the same event: the message first, then the run, the plan, ...
const KINDS = ["AgentMessage", "AgentRun", "AgentPlan", "AgentReasoning", "AgentToolCall", "AgentError"];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, String(v));
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

function pretty(json) {
  if (!json) return "";
  try {
    return JSON.stringify(JSON.parse(json));
  } catch {
    return json; // still streaming: partial JSON
  }
}

const RENDER = {
  AgentMessage: (p) => el("div", { class: "text" }, p.text ?? ""),
  AgentRun: (p, e) =>
    el(
      "div",
      { class: "run" },
      `run ${e.id} · ${p.model ?? ""} · ${p.status ?? ""}${p.finishReason ? ` (${p.finishReason})` : ""}`,
      p.status === "running" ? stopButton(e.id) : undefined,
      // The server died or restarted mid-run (or the model failed): run the task again.
      p.status === "interrupted" ? el("span", { class: "note" }, "interrupted: the server stopped mid-run") : undefined,
      p.status === "interrupted" || p.status === "failed" ? retryButton(e.id) : undefined,
    ),
  AgentPlan: (p) =>
    el("ol", { class: "plan" }, ...(p.steps ?? []).map((s) => el("li", { "data-step-status": s.status ?? "pending" }, s.title ?? ""))),
  AgentReasoning: (p) => el("div", { class: "reasoning" }, p.text ?? ""),
  AgentToolCall: (p) =>
    el(
      "div",
      { class: "tool" },
      el("code", { "data-testid": "tool-name" }, p.tool ?? ""),
      el("code", { "data-testid": "tool-arguments" }, pretty(p.arguments)),
      el("span", { class: "tool-status" }, p.status ?? ""),
      p.result ? el("code", { "data-testid": "tool-result" }, pretty(p.result)) : undefined,
      p.error ? el("span", { class: "tool-error", "data-testid": "tool-error" }, p.error) : undefined,
    ),
  AgentError: (p) => el("div", { class: "error" }, p.message ?? ""),
};

function stopButton(runId) {
  const stop = el("button", { "data-testid": "stop" }, "stop");
  // A refused stop (the run just ended) shows in the status line.
  stop.onclick = () => client.submit(sessionId, "AgentStopRun", { runId }).catch((err) => (status.textContent = `stop: ${err.message}`));
  return stop;
}

/** Retry: the task of run `runId` (its user message) as a new run. */
function retryButton(runId) {
  const prompt = view.getSnapshot().entities.get("AgentMessage")?.get(`user-${runId}`)?.payload.text;
  if (!prompt) return undefined;
  const retry = el("button", { "data-testid": "retry" }, "Retry");
  retry.onclick = () => ask(prompt);
  return retry;
}

async function ask(prompt) {
  try {
    await client.submit(sessionId, "AgentStartRun", { prompt });
  } catch (err) {
    status.textContent = `error: ${err.message}`;
  }
}

function render() {
  const state = view.getSnapshot();
  status.textContent = `${state.status} · ordinal ${state.ordinal}`;
  const entities = KINDS.flatMap((kind) => [...(state.entities.get(kind)?.values() ?? [])]);
  entities.sort((a, b) =>
    a.createdOrdinal !== b.createdOrdinal ? (a.createdOrdinal < b.createdOrdinal ? -1 : 1) : KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind),
  );
  list.replaceChildren(
    ...entities.map((e) =>
      el(
        "li",
        { "data-kind": e.kind, "data-id": e.id, "data-role": e.payload.role ?? "", "data-status": e.payload.status ?? "" },
        RENDER[e.kind](e.payload, e),
      ),
    ),
  );
}

function show(next) {
  stopRendering();
  if (view.sessionId !== next) view.close();
  sessionId = next;
  view = client.subscribe(sessionId, { reduce });
  document.body.dataset.session = sessionId;
  stopRendering = view.subscribe(render);
  render();
}
show(sessionId);

window.addEventListener("hashchange", () => {
  if (location.hash.length < 2) location.hash = `agent-${Math.random().toString(36).slice(2, 10)}`;
  const next = decodeURIComponent(location.hash.slice(1));
  if (next !== sessionId) show(next);
});

document.getElementById("ask").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = document.getElementById("prompt");
  const prompt = input.value.trim();
  if (!prompt) return;
  input.value = "";
  await ask(prompt);
});
