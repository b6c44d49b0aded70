// @vitest-environment happy-dom
// useSubmit against a real command ingress: one idempotency key per logical
// submission, the same key on retry, so the handler runs once.
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { createElement, type ReactNode } from "react";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SessionstreamProvider, useSubmit, type UseSubmitResult } from "../../src/react/index.js";
import type { FetchLike, SessionstreamClient } from "../../src/transport/client/index.js";
import { Chat } from "./chat-view.js";
import { nodeFetch, startServer, type TestServer } from "./server.js";

let server: TestServer | undefined;
beforeAll(() => {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
});
afterEach(async () => {
  cleanup();
  await server?.close();
  server = undefined;
});

let api: UseSubmitResult | undefined;
function Composer({ sessionId }: { sessionId: string }): ReactNode {
  api = useSubmit(sessionId);
  return createElement(
    "div",
    null,
    createElement("p", { "data-testid": "pending" }, String(api.pending)),
    createElement("p", { "data-testid": "error" }, api.error ? `${(api.error as { code?: string }).code}: ${api.error.message}` : ""),
  );
}

function mount(client: SessionstreamClient) {
  return render(createElement(SessionstreamProvider, { client }, createElement(Composer, { sessionId: "s" }), createElement(Chat, { sessionId: "s" })));
}

/** Counts handler runs: each run of ChatStartInference publishes one ChatInferenceStarted. */
function countRuns(s: TestServer): () => number {
  let runs = 0;
  s.hub.observe((a) => {
    if (a.event.name === "ChatInferenceStarted") runs++;
  });
  return () => runs;
}

const items = () => screen.queryAllByRole("listitem").map((li) => li.textContent);

describe("useSubmit", () => {
  it("a failed submission retried with retry() reuses its key: the handler ran once and the answer is replayed", async () => {
    server = await startServer();
    const runs = countRuns(server);
    const keys: string[] = [];
    let calls = 0;
    let gate: Promise<void> | undefined;
    // The first request reaches the handler but its answer is lost (the connection drops).
    const flakyFetch: FetchLike = async (url, init) => {
      keys.push(init.headers["idempotency-key"]!);
      await gate;
      const res = await nodeFetch(url, init);
      if (++calls === 1) throw new TypeError("fetch failed: socket hang up");
      return res;
    };
    mount(server.client({ fetch: flakyFetch }));
    await waitFor(() => expect(screen.getByTestId("chat-status").textContent).toBe("live"));

    let open!: () => void;
    gate = new Promise<void>((r) => (open = r));
    const first = api!.submit("ChatStartInference", { prompt: "once" }, { maxAttempts: 1 });
    await waitFor(() => expect(screen.getByTestId("pending").textContent).toBe("true"));
    open();
    await expect(first).rejects.toMatchObject({ code: "unavailable" });
    await waitFor(() => expect(screen.getByTestId("error").textContent).toMatch(/^unavailable: command "ChatStartInference" could not be sent/));
    expect(screen.getByTestId("pending").textContent).toBe("false");
    expect(runs()).toBe(1); // it did run: only the answer was lost
    await waitFor(() => expect(items()).toEqual(["m1:finished:Ordinals order events."]));

    const retried = await api!.retry();
    expect(retried).toMatchObject({ status: 200, replayed: true });
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(retried.idempotencyKey).toBe(keys[0]);
    expect(api!.last).toEqual({ name: "ChatStartInference", payload: { prompt: "once" }, idempotencyKey: keys[0] });
    await waitFor(() => expect(screen.getByTestId("error").textContent).toBe(""));
    expect(runs()).toBe(1);
    expect(items()).toEqual(["m1:finished:Ordinals order events."]);

    // A new logical submission gets a new key and runs the handler.
    const next = await api!.submit("ChatStartInference", { prompt: "another" });
    expect(next).toMatchObject({ status: 200, replayed: false });
    expect(next.idempotencyKey).not.toBe(keys[0]);
    expect(runs()).toBe(2);
    await waitFor(() => expect(items()).toEqual(["m1:finished:Ordinals order events.", "m2:finished:Ordinals order events."]));
  });

  it("an explicit idempotency key makes two submissions one; errors keep the server's code", async () => {
    server = await startServer();
    const runs = countRuns(server);
    mount(server.client());
    const a = await api!.submit("ChatStartInference", { prompt: "p" }, { idempotencyKey: "click-1" });
    const b = await api!.submit("ChatStartInference", { prompt: "p" }, { idempotencyKey: "click-1" });
    expect(a).toMatchObject({ idempotencyKey: "click-1", replayed: false });
    expect(b).toMatchObject({ idempotencyKey: "click-1", replayed: true });
    expect(runs()).toBe(1);

    await expect(api!.submit("Nope", {})).rejects.toMatchObject({ code: "unknown_command", status: 404 });
    await waitFor(() => expect(screen.getByTestId("error").textContent).toMatch(/^unknown_command: /));
    expect(runs()).toBe(1);
  });

  it("retry() before any submission rejects with invalid_argument", async () => {
    server = await startServer();
    mount(server.client());
    await expect(api!.retry()).rejects.toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/nothing to retry/) });
  });
});
