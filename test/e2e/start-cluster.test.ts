// Three `sessionstream start` processes on one Redis and one PostgreSQL:
// clients spread across the nodes, commands sent to different nodes, one
// node SIGKILLed mid-stream. Its clients reconnect to a survivor; every
// client ends with the state of the snapshot, and every node delivered the
// same ordinals.
import { afterAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";
import { dropPrefixes, freshPrefix, REDIS_URL, redisUnavailable } from "../helpers/redis.js";
import { command, copyStartApp, getJson, StartProcess } from "../helpers/start-app.js";
import { until } from "../helpers/until.js";

const skip = (await postgresUnavailable()) ?? (await redisUnavailable());
const app = copyStartApp();
const schema = freshSchema();
const prefix = freshPrefix();
const nodes: StartProcess[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  app.remove();
  if (!skip) {
    await dropSchemas([schema]);
    await dropPrefixes([prefix]);
  }
});

type Message = { text: string; status: string };

/**
 * A client as a page would be: subscribes on a node, folds snapshot + live
 * UI events into messages, and on a lost connection or a gap in ordinals
 * subscribes again (on `next()`'s node) from a fresh snapshot.
 */
class Client {
  state = new Map<string, Message>();
  last = 0n;
  /** ordinal -> "name:chunk" of every live frame, to compare across nodes. */
  readonly seen = new Map<string, string>();
  reconnects = 0;
  #ws: WebSocket | undefined;
  subscribed = false;

  constructor(
    readonly session: string,
    public node: () => string,
  ) {
    this.#connect();
  }

  #connect(): void {
    this.subscribed = false;
    const ws = new WebSocket(`${this.node().replace(/^http/, "ws")}/ws`);
    this.#ws = ws;
    ws.on("open", () => ws.send(JSON.stringify({ subscribe: { sessionId: this.session } })));
    ws.on("message", (data) => this.#frame(JSON.parse(data.toString()) as Record<string, any>));
    ws.on("error", () => {});
    ws.on("close", () => {
      if (this.#ws !== ws || this.closed) return;
      this.reconnects++;
      setTimeout(() => this.#connect(), 100);
    });
  }

  closed = false;
  close(): void {
    this.closed = true;
    this.#ws?.close();
  }

  #frame(frame: Record<string, any>): void {
    if (frame["snapshot"]) {
      const snap = frame["snapshot"];
      this.state = new Map((snap.entities ?? []).map((e: any) => [e.id, { text: e.payload.text ?? "", status: e.payload.status ?? "" }]));
      this.last = BigInt(snap.snapshotOrdinal ?? "0");
    } else if (frame["subscribed"]) {
      this.subscribed = true;
    } else if (frame["uiEvent"]) {
      const ev = frame["uiEvent"];
      const ordinal = BigInt(ev.eventOrdinal);
      this.seen.set(ev.eventOrdinal, `${ev.name}:${ev.payload.chunk ?? ""}`);
      if (ordinal <= this.last) return;
      if (ordinal !== this.last + 1n) {
        // A gap (the applying node died between its commit and its notice): resync from a snapshot.
        this.#ws?.terminate();
        return;
      }
      this.last = ordinal;
      const id = ev.payload.messageId as string;
      const m = this.state.get(id) ?? { text: "", status: "streaming" };
      if (ev.name === "ChatMessageStarted") this.state.set(id, { text: "", status: "streaming" });
      if (ev.name === "ChatMessageAppended") this.state.set(id, { ...m, text: m.text + ev.payload.chunk });
      if (ev.name === "ChatMessageFinished") this.state.set(id, { ...m, status: "finished" });
    }
  }
}

describe.skipIf(skip !== undefined)("three start nodes on Redis + PostgreSQL", () => {
  test("a node SIGKILLed mid-stream: its clients reconnect elsewhere, every client ends equal to the snapshot, every node saw the same ordinals", async () => {
    const store = new URL(PG_URL);
    store.searchParams.set("schema", schema);
    const env = { SESSIONSTREAM_STORE: store.toString(), SESSIONSTREAM_BUS: `${REDIS_URL}/?prefix=${prefix}&partitions=6`, TOKENS: "60", TOKEN_DELAY_MS: "40" };
    // The first node creates the schema; the others start together.
    nodes.push(await new StartProcess(app.dir, [], env).ready());
    nodes.push(...(await Promise.all([new StartProcess(app.dir, [], env).ready(), new StartProcess(app.dir, [], env).ready()])));
    const [a, b, c] = nodes as [StartProcess, StartProcess, StartProcess];
    for (const n of nodes) expect(await getJson(`${n.url}/readyz`)).toMatchObject({ status: 200 });

    const sessions = ["cl-1", "cl-2", "cl-3"];
    const alive = () => [a, b, c].filter((n) => n.child.exitCode === null && n.child.signalCode === null);
    // Every session has a client on every node; a client whose node dies moves to the first survivor.
    const clients = sessions.flatMap((s) =>
      [a, b, c].map((n) => {
        let home = n;
        return new Client(s, () => {
          if (!alive().includes(home)) home = alive()[0]!;
          return home.url;
        });
      }),
    );
    await until(() => clients.every((cl) => cl.subscribed), "every client subscribed", 30_000);

    // Each session's command goes to a different node; each streams 60 tokens.
    for (const [i, s] of sessions.entries()) {
      expect(await command(nodes[i]!.url, s, "ChatStartInference", { prompt: s })).toMatchObject({ status: 202 });
    }
    await until(() => clients.every((cl) => cl.last >= 10n), "every client streaming", 30_000);
    c.child.kill("SIGKILL");
    expect((await c.exited).signal).toBe("SIGKILL");

    // The streams run by A and B finish (partitions C owned are taken over); C's stream stopped with C.
    const done = async () => {
      const snaps = await Promise.all(sessions.map((s) => getJson(`${a.url}/api/sessions/${s}/snapshot`)));
      return snaps.slice(0, 2).every((snap) => snap.body.entities?.[0]?.payload?.status === "finished") && snaps;
    };
    const snaps = (await until(done, "the streams of A and B to finish", 90_000, 250)) as Array<{ body: any }>;
    expect(snaps[2]!.body.entities[0].payload.status).toBe("streaming");

    // Every client (those of C after reconnecting) ends with the snapshot's state and ordinal.
    for (const [i, s] of sessions.entries()) {
      const snap = snaps[i]!.body;
      const expected = new Map(snap.entities.map((e: any) => [e.id, { text: e.payload.text, status: e.payload.status }]));
      for (const cl of clients.filter((x) => x.session === s)) {
        await until(() => cl.subscribed && cl.last === BigInt(snap.snapshotOrdinal), `client of ${s} to reach ordinal ${snap.snapshotOrdinal} (at ${cl.last})`, 30_000);
        expect(cl.state).toEqual(expected);
      }
      // The same ordinal carried the same UI event on every node.
      const byOrdinal = new Map<string, Set<string>>();
      for (const cl of clients.filter((x) => x.session === s)) {
        for (const [ordinal, what] of cl.seen) byOrdinal.set(ordinal, (byOrdinal.get(ordinal) ?? new Set()).add(what));
      }
      for (const [ordinal, variants] of byOrdinal) expect([ordinal, [...variants]]).toEqual([ordinal, [[...variants][0]]]);
    }
    // C's clients moved.
    expect(clients.filter((_, i) => i % 3 === 2).every((cl) => cl.reconnects >= 1)).toBe(true);
    for (const cl of clients) cl.close();

    for (const n of [a, b]) expect(await n.stop()).toEqual({ code: 0, signal: null });
  }, 240_000);
});
