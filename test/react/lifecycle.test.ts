// @vitest-environment happy-dom
// Subscriptions on the wire follow mounted components: one per session however
// many components show it, none after the last unmounts, exactly one under
// StrictMode's double effects.
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { createElement, Fragment, StrictMode } from "react";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SessionstreamProvider } from "../../src/react/index.js";
import type { SessionstreamClient } from "../../src/transport/client/index.js";
import { until } from "../helpers/until.js";
import { Chat } from "./chat-view.js";
import { recordsOf, startServer, subscribesSent, type TestServer } from "./server.js";

let server: TestServer | undefined;
beforeAll(() => {
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
});
afterEach(async () => {
  cleanup();
  await server?.close();
  server = undefined;
});

/** `count` chat views of `sessionId`, labelled chat0, chat1, ... */
function tree(client: SessionstreamClient, sessionId: string, count: number) {
  const chats = Array.from({ length: count }, (_, i) => createElement(Chat, { key: i, sessionId, label: `chat${i}` }));
  return createElement(SessionstreamProvider, { client }, createElement(Fragment, null, ...chats));
}

/** A client whose connection is open (so a subscribe or unsubscribe goes on the wire at once). */
async function openClient(s: TestServer): Promise<SessionstreamClient> {
  const client = s.client();
  await until(() => client.status === "open", "the client's connection");
  return client;
}

/** Lets pending timers and frames run, for assertions that something did not happen. */
const settle = () => new Promise((r) => setTimeout(r, 100));

describe("useSession lifecycle", () => {
  it("shares one subscription between components and unsubscribes when the last one unmounts; the connection stays", async () => {
    server = await startServer();
    await server.hub.submit("s", "ChatStartInference", { prompt: "x" });
    const client = await openClient(server);
    const view = render(tree(client, "s", 2));
    await waitFor(() => expect(screen.getByTestId("chat1-status").textContent).toBe("live"));
    expect(screen.getByTestId("chat0-status").textContent).toBe("live");
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["m1:finished:Ordinals order events.", "m1:finished:Ordinals order events."]);
    expect(subscribesSent(server, "s")).toBe(1);
    expect(server.ws.stats().subscriptions).toBe(1);

    view.rerender(tree(client, "s", 1)); // one of two unmounts: the other still needs the subscription
    await settle();
    expect(server.ws.stats().subscriptions).toBe(1);
    expect(recordsOf(server, "unsubscribed", "s")).toHaveLength(0);

    view.unmount(); // the last one: unsubscribe on the wire
    await until(() => server!.ws.stats().subscriptions === 0, "the server to drop the subscription");
    expect(recordsOf(server, "unsubscribed", "s")).toHaveLength(1);
    expect(server.sent.filter((f) => "unsubscribe" in f)).toEqual([{ unsubscribe: { sessionId: "s" } }]);
    expect(server.ws.stats().connections).toBe(1); // the app owns the client: the hook does not close it
    expect(subscribesSent(server, "s")).toBe(1);
  });

  it("switching the session id moves the subscription", async () => {
    server = await startServer();
    const client = await openClient(server);
    const view = render(tree(client, "a", 1));
    await waitFor(() => expect(screen.getByTestId("chat0-status").textContent).toBe("live"));
    view.rerender(tree(client, "b", 1));
    await waitFor(() => expect(server!.ws.stats().perConnection[0]?.subscriptions).toEqual(["b"]));
    await waitFor(() => expect(screen.getByTestId("chat0-status").textContent).toBe("live"));
    expect(recordsOf(server, "unsubscribed", "a")).toHaveLength(1);
    expect(subscribesSent(server, "b")).toBe(1);
  });

  it("under StrictMode subscribes once on the wire, keeps receiving live updates, and unsubscribes once on unmount", async () => {
    server = await startServer();
    await server.hub.submit("s", "ChatStartInference", { prompt: "x" });
    const client = await openClient(server);
    const view = render(createElement(StrictMode, null, tree(client, "s", 1)));
    await waitFor(() => expect(screen.getByTestId("chat0-status").textContent).toBe("live"));
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["m1:finished:Ordinals order events."]);
    await settle();
    expect(subscribesSent(server, "s")).toBe(1);
    expect(recordsOf(server, "subscribed", "s")).toHaveLength(1);
    expect(recordsOf(server, "unsubscribed", "s")).toHaveLength(0);
    expect(server.sent.filter((f) => "unsubscribe" in f)).toEqual([]);

    // The listener survived the effect's unsubscribe/subscribe: live frames still render.
    await server.hub.submit("s", "ChatStartInference", { prompt: "y" });
    await waitFor(() =>
      expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["m1:finished:Ordinals order events.", "m2:finished:Ordinals order events."]),
    );

    view.unmount();
    await until(() => server!.ws.stats().subscriptions === 0, "the server to drop the subscription");
    expect(recordsOf(server, "unsubscribed", "s")).toHaveLength(1);
    expect(subscribesSent(server, "s")).toBe(1);
  });
});
