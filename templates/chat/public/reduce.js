// Client-side mirror of the timeline projection (src/projections/chat-timeline.ts):
// folds the live UI events into the ChatMessage entities the snapshot delivered.
// One source for the page (chat.js), the app's tests (expectLiveMatchesSnapshot
// of sessionstream/testing) and the drift check of `sessionstream dev`, which
// finds it through the `reduce` export of src/app.ts.
// Payloads are protobuf JSON: empty fields are left out.

/** @type {import("sessionstream/client").UIReducer} */
export function reduce(draft, event) {
  const p = event.payload;
  const current = draft.get("ChatMessage", p.messageId)?.payload ?? { messageId: p.messageId };
  switch (event.name) {
    case "ChatUserMessageAdded":
      draft.set("ChatMessage", p.messageId, { messageId: p.messageId, role: "user", text: p.text ?? "", status: "finished" });
      break;
    case "ChatMessageStarted":
      draft.set("ChatMessage", p.messageId, { messageId: p.messageId, role: "assistant", text: p.text ?? "", status: "streaming" });
      break;
    case "ChatMessageAppended":
      draft.set("ChatMessage", p.messageId, { ...current, text: (current.text ?? "") + (p.text ?? "") });
      break;
    // An answer may end before it started (a stop or a crash right after the
    // command): the terminal event then creates the assistant's message.
    case "ChatMessageFinished":
    case "ChatMessageStopped":
    case "ChatMessageInterrupted":
      draft.set("ChatMessage", p.messageId, { ...current, role: "assistant", status: p.status });
      break;
    case "ChatMessageFailed":
      draft.set("ChatMessage", p.messageId, { ...current, role: "assistant", status: p.status, error: p.error });
      break;
  }
}
