// The chat page: the client library hydrates the session from a snapshot,
// then folds live UI events; a reload re-hydrates from the durable timeline.
// `sessionstream dev` serves the client library under /__sessionstream/dist/.
import { createSessionstreamClient } from "/__sessionstream/dist/transport/client/index.js";
import { reduce } from "./reduce.js";

// The session lives in the URL, so a reload (or a second tab) shows the same conversation;
// changing the hash (a link, the address bar, back/forward) switches to that session.
if (location.hash.length < 2) location.hash = `chat-${Math.random().toString(36).slice(2, 10)}`;
let sessionId = decodeURIComponent(location.hash.slice(1));

const client = createSessionstreamClient({ url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws` });

// The reducer that folds live UI events into the entities lives in reduce.js
// (shared with the app's tests and the drift check of `sessionstream dev`).

let view = client.subscribe(sessionId, { reduce });
let stopRendering = () => {};
const list = document.getElementById("messages");
const status = document.getElementById("status");

function render() {
  const state = view.getSnapshot();
  status.textContent = `${state.status} · ordinal ${state.ordinal}`;
  const messages = [...(state.entities.get("ChatMessage")?.values() ?? [])].sort((a, b) =>
    a.createdOrdinal < b.createdOrdinal ? -1 : a.createdOrdinal > b.createdOrdinal ? 1 : 0,
  );
  list.replaceChildren(
    ...messages.map((m) => {
      const li = document.createElement("li");
      li.dataset.role = m.payload.role ?? "";
      li.dataset.status = m.payload.status ?? "";
      li.dataset.messageId = m.id;
      li.textContent = m.payload.text ?? "";
      if (m.payload.error) li.append(Object.assign(document.createElement("span"), { className: "error", textContent: m.payload.error }));
      if (m.payload.status === "streaming") li.append(button("stop", () => client.submit(sessionId, "ChatStopInference", { messageId: m.id })));
      // The server died or restarted mid-answer (or the model failed): ask again.
      const prompt = promptOf(messages, m.id);
      if ((m.payload.status === "interrupted" || m.payload.status === "failed") && prompt) {
        if (m.payload.status === "interrupted") li.append(Object.assign(document.createElement("span"), { className: "note", textContent: "interrupted: the server stopped mid-answer" }));
        li.append(button("retry", () => ask(prompt)));
      }
      return li;
    }),
  );
}

/** A button of a message; a refused command (e.g. a stop of an answer that just ended) shows in the status line. */
function button(label, onclick) {
  const b = document.createElement("button");
  b.textContent = label === "retry" ? "Retry" : label;
  b.dataset.testid = label;
  b.onclick = () =>
    Promise.resolve(onclick()).catch((err) => {
      status.textContent = `${label}: ${err.message}`;
    });
  return b;
}

/** The prompt an assistant message answers: the user message of the same turn ("user-<turn>" for "assistant-<turn>"). */
function promptOf(messages, messageId) {
  if (!messageId.startsWith("assistant-")) return undefined;
  const user = messages.find((m) => m.id === `user-${messageId.slice("assistant-".length)}`);
  return user?.payload.text;
}

async function ask(prompt) {
  try {
    await client.submit(sessionId, "ChatStartInference", { prompt });
  } catch (err) {
    status.textContent = `error: ${err.message}`;
  }
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
  if (location.hash.length < 2) location.hash = `chat-${Math.random().toString(36).slice(2, 10)}`;
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
