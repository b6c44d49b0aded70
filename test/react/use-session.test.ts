// @vitest-environment happy-dom
// useSession against a real server (hub + websocket server + command ingress on
// loopback): hydrate, live updates, reconnect after a websocket server restart.
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { createElement, type ReactNode } from "react";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SessionstreamProvider, useConnectionStatus, type UseSessionResult } from "../../src/react/index.js";
import type { SessionstreamClient } from "../../src/transport/client/index.js";
import { Chat, hookEntities, transitions } from "./chat-view.js";
import { serverEntities, startServer, type TestServer } from "./server.js";

let server: TestServer | undefined;
beforeAll(() => {
  // Frames arrive outside act(), as in a browser: let React schedule those renders itself.
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
});
afterEach(async () => {
  cleanup();
  await server?.close();
  server = undefined;
});

function Connection(): ReactNode {
  return createElement("p", { "data-testid": "connection" }, useConnectionStatus());
}

function tree(client: SessionstreamClient, props: Parameters<typeof Chat>[0]) {
  return createElement(SessionstreamProvider, { client }, createElement(Connection), createElement(Chat, props));
}

function mount(client: SessionstreamClient, props: Parameters<typeof Chat>[0]) {
  return render(tree(client, props));
}

const items = () => screen.queryAllByRole("listitem").map((li) => li.textContent);

describe("useSession", () => {
  it("hydrates: connecting, then hydrating while the snapshot is on its way, then live with the snapshot's state", async () => {
    server = await startServer();
    await server.hub.submit("s", "ChatStartInference", { prompt: "before" });
    server.store.hold(); // keep the snapshot at the gate, so `hydrating` is on screen for a while
    const statuses: string[] = [];
    let last: UseSessionResult | undefined;
    mount(server.client(), { sessionId: "s", statuses, onResult: (r) => (last = r) });
    expect(screen.getByTestId("chat-status").textContent).toBe("connecting");

    await waitFor(() => expect(screen.getByTestId("chat-status").textContent).toBe("hydrating"));
    await waitFor(() => expect(server!.store.waiting).toBe(1));
    expect(items()).toEqual([]); // nothing before the snapshot
    server.store.release();

    await waitFor(() => expect(screen.getByTestId("chat-status").textContent).toBe("live"));
    expect(items()).toEqual(["m1:finished:Ordinals order events."]);
    expect(transitions(statuses)).toEqual(["connecting", "hydrating", "live"]);
    expect(last!.resume).toMatchObject({ kind: "snapshot", snapshotOrdinal: 5n });
    expect(screen.getByTestId("chat-resume").textContent).toBe("snapshot");
    expect(last!.error).toBeUndefined();
    expect(last!.state.ordinal).toBe(5n);
    expect(hookEntities(last!)).toEqual(await serverEntities(server, "s"));
  });

  it("follows live updates; the result keeps its identity across renders that change nothing", async () => {
    server = await startServer();
    const client = server.client();
    const results: UseSessionResult[] = [];
    const view = mount(client, { sessionId: "s", onResult: (r) => results.push(r) });
    await waitFor(() => expect(screen.getByTestId("chat-status").textContent).toBe("live"));
    expect(items()).toEqual([]);

    // A parent re-render with nothing new from the server: same state object, same result (getSnapshot is stable).
    const before = results.at(-1)!;
    const renders = results.length;
    view.rerender(tree(client, { sessionId: "s", onResult: (r) => results.push(r), label: "chat" }));
    expect(results.length).toBe(renders + 1);
    expect(results.at(-1)).toBe(before);

    await server.hub.submit("s", "ChatStartInference", { prompt: "live" });
    await waitFor(() => expect(items()).toEqual(["m1:finished:Ordinals order events."]));
    const after = results.at(-1)!;
    expect(after).not.toBe(before);
    expect(after.state.ordinal).toBe(5n);
    expect(after.status).toBe("live");
    expect(hookEntities(after)).toEqual(await serverEntities(server, "s"));

    await server.hub.submit("s", "ChatStartInference", { prompt: "again" });
    await waitFor(() => expect(items()).toEqual(["m1:finished:Ordinals order events.", "m2:finished:Ordinals order events."]));
    expect(hookEntities(results.at(-1)!)).toEqual(await serverEntities(server, "s"));
  });

  it("reconnects after the websocket server restarts: connecting, hydrating, live again, resumed with a delta, state equal to the server's", async () => {
    server = await startServer();
    await server.hub.submit("s", "ChatStartInference", { prompt: "first" });
    const statuses: string[] = [];
    let last: UseSessionResult | undefined;
    mount(server.client(), { sessionId: "s", statuses, onResult: (r) => (last = r) });
    await waitFor(() => expect(screen.getByTestId("chat-status").textContent).toBe("live"));
    expect(last!.resume?.kind).toBe("snapshot");
    const mark = statuses.length;

    expect(screen.getByTestId("connection").textContent).toBe("open");
    await server.stopWebSocket(); // every connection closes (1001); the port answers no upgrade
    await waitFor(() => expect(screen.getByTestId("chat-status").textContent).toBe("connecting"));
    await waitFor(() => expect(screen.getByTestId("connection").textContent).toBe("reconnecting"));
    await server.hub.submit("s", "ChatStartInference", { prompt: "while away" }); // missed live: only a resume brings it
    expect(items()).toEqual(["m1:finished:Ordinals order events."]);

    server.store.hold();
    server.startWebSocket();
    await waitFor(() => expect(screen.getByTestId("chat-status").textContent).toBe("hydrating"));
    await waitFor(() => expect(server!.store.waiting).toBe(1));
    server.store.release();
    await waitFor(() => expect(screen.getByTestId("chat-status").textContent).toBe("live"));

    expect(transitions(statuses.slice(mark - 1))).toEqual(["live", "connecting", "hydrating", "live"]);
    expect(items()).toEqual(["m1:finished:Ordinals order events.", "m2:finished:Ordinals order events."]);
    expect(last!.resume).toMatchObject({ kind: "recovered", snapshotOrdinal: 10n });
    expect(last!.resume!.from).toBeGreaterThan(0n);
    expect(screen.getByTestId("chat-resume").textContent).toBe("recovered");
    expect(hookEntities(last!)).toEqual(await serverEntities(server, "s"));
    expect(server.ws.stats().subscriptions).toBe(1);
    expect(screen.getByTestId("connection").textContent).toBe("open");
  });

  it("a refused subscription shows status error with the server's code; other sessions are unaffected", async () => {
    server = await startServer({ authorize: (r) => r.action !== "subscribe" || r.sessionId !== "secret" });
    let last: UseSessionResult | undefined;
    const client = server.client();
    render(
      createElement(
        SessionstreamProvider,
        { client },
        createElement(Chat, { sessionId: "secret", label: "secret", onResult: (r) => (last = r) }),
        createElement(Chat, { sessionId: "open", label: "open" }),
      ),
    );
    await waitFor(() => expect(screen.getByTestId("secret-status").textContent).toBe("error"));
    expect(last!.error).toMatchObject({ code: "forbidden" });
    expect(last!.resume).toBeUndefined();
    expect(last!.state.entities.size).toBe(0);
    await waitFor(() => expect(screen.getByTestId("open-status").textContent).toBe("live"));
  });
});
