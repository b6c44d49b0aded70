// Scenario 5: subscribe -> snapshot frame received, for a session of
// 1k/10k/100k timeline entities in the SQLite store; against a bare `ws`
// server doing a raw SELECT of the same rows + JSON serialization.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { create, fromBinary, toJson, type DescMessage } from "@bufbuild/protobuf";
import Database from "better-sqlite3";
import WebSocket from "ws";
import { ChatMessageEntitySchema, InferenceStartedEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import type { TimelineEntity } from "../../src/index.js";
import { frameCodec, sqlite } from "../lib/pkg.js";
import { benchRegistry } from "../lib/chat-bench.js";
import { interleave, timeMs } from "../lib/measure.js";
import { makeRow } from "../lib/row.js";
import { startBareWs, startOurs } from "../lib/servers.js";
import { removeDir, tempDir } from "../lib/tmp.js";
import type { Row, Scenario } from "../lib/types.js";

const SESSION = "hydrate";
const TEXT = "Ordinals order events within one session: strictly increasing, never reused, continuing after a restart. ";

export const scenario: Scenario = {
  name: "hydration",
  title: "Subscribe -> snapshot received (SQLite store)",
  description:
    "ours: websocket subscribe -> snapshot frame received by an in-process client (hub.snapshot on SqliteHydrationStore + SnapshotFrame protobuf JSON with Any payloads). " +
    "baseline: bare ws server: raw SELECT of the same rows (same file), payload fromBinary + toJson, JSON.stringify of the same frame shape, send; request -> response received.",
  async run(ctx) {
    const sizes = ctx.quick ? [1_000, 3_000, 10_000] : [1_000, 10_000, 100_000];
    const registry = benchRegistry();
    const rows: Row[] = [];
    for (const n of sizes) {
      const dir = tempDir("hydration");
      const path = join(dir, "hydrate.sqlite");
      const cursor = seed(path, registry, n);
      const store = new sqlite.SqliteHydrationStore({ path, registry });
      const ours = await startOurs({ store, limits: { maxQueuedBytesPerConnection: 1024 * 1024 * 1024 } });
      const raw = new Database(path, { readonly: true });
      const bare = await startBareWs();
      const select = raw.prepare(
        `SELECT kind, id, created_ordinal, last_event_ordinal, type_name, payload FROM ss_entities
         WHERE session_id = ? AND tombstone = 0 ORDER BY created_ordinal, kind, id`,
      );
      const selectCursor = raw.prepare("SELECT cursor FROM ss_sessions WHERE session_id = ?");
      const schemaOf = (t: string) => registry.typeRegistry.getMessage(t) as DescMessage;
      // The raw server answers a session id with the snapshot.
      const onConnection = (ws: WebSocket) =>
        ws.on("message", (data) => {
          const sessionId = data.toString();
          ws.send(rawSnapshot(sessionId, selectCursor, select, schemaOf));
        });
      const wssClients = bare.clients;
      const oursClient = await open(ours.url);
      const bareClient = await open(bare.url);
      for (const c of wssClients) onConnection(c);
      try {
        await sleep(100); // let `hello` pass (it may arrive with the upgrade response)
        const stats = await interleave(ctx, `${n} entities`, {
          ours: async () => {
            const frames: string[] = [];
            let t = 0;
            const done = new Promise<void>((resolve) => {
              const onMsg = (data: WebSocket.RawData) => {
                const text = data.toString();
                if (frames.length === 0) t = Number(process.hrtime.bigint() - t0) / 1e6;
                frames.push(text.slice(0, 20));
                if (text.startsWith('{"unsubscribed"')) {
                  oursClient.off("message", onMsg);
                  resolve();
                } else if (text.startsWith('{"subscribed"')) {
                  oursClient.send(JSON.stringify({ unsubscribe: { sessionId: SESSION } }));
                }
              };
              oursClient.on("message", onMsg);
            });
            const t0 = process.hrtime.bigint();
            oursClient.send(JSON.stringify({ subscribe: { sessionId: SESSION } }));
            await done;
            if (!frames[0]?.startsWith('{"snapshot"')) throw new Error(`expected a snapshot frame first, got ${frames[0]}`);
            return t;
          },
          raw: async () => {
            const got = nextMessage(bareClient);
            const t0 = process.hrtime.bigint();
            bareClient.send(SESSION);
            const text = await got;
            const t = Number(process.hrtime.bigint() - t0) / 1e6;
            if (!text.startsWith('{"snapshot"')) throw new Error("raw server did not answer with a snapshot");
            return t;
          },
        });
        // Where ours spends its time, measured once outside the comparison.
        const snapMs = await timeMs(async () => void (await ours.hub.snapshot(SESSION)));
        const snap = await ours.hub.snapshot(SESSION);
        const encMs = await timeMs(() => void frameCodec.encodeSnapshot(snap, 0n, registry.typeRegistry));
        const selMs = await timeMs(() => void select.all(SESSION));
        rows.push(
          makeRow({
            scenario: "hydration",
            size: `${n / 1000}k entities`,
            metric: "time to snapshot",
            unit: "ms",
            higherIsBetter: false,
            ours: stats.ours,
            baselineName: "SELECT + JSON",
            baseline: stats.raw,
            target: { of: "ratio", op: "<=", value: 1.5 },
            note: `ours breakdown (one call): hub.snapshot ${snapMs.toFixed(1)} ms, encodeSnapshot ${encMs.toFixed(1)} ms; raw SELECT alone ${selMs.toFixed(1)} ms; cursor ${cursor}`,
          }),
        );
      } finally {
        oursClient.terminate();
        bareClient.terminate();
        await ours.close();
        await bare.close();
        await store.close();
        raw.close();
        removeDir(dir);
      }
    }
    return rows;
  },
};

/** Writes `n` ChatMessage entities through the store (10k per event/transaction); returns the cursor. */
function seed(path: string, registry: ReturnType<typeof benchRegistry>, n: number): bigint {
  const store = new sqlite.SqliteHydrationStore({ path, registry });
  const chunk = 10_000;
  let ordinal = 0n;
  for (let i = 0; i < n; i += chunk) {
    ordinal++;
    const entities: TimelineEntity[] = [];
    for (let j = i; j < Math.min(n, i + chunk); j++) {
      entities.push({
        kind: "ChatMessage",
        id: `m${j}`,
        createdOrdinal: ordinal,
        lastEventOrdinal: ordinal,
        tombstone: false,
        payload: create(ChatMessageEntitySchema, { messageId: `m${j}`, role: "assistant", status: "finished", text: TEXT }),
      });
    }
    void store.apply({
      sessionId: SESSION,
      ordinal,
      event: { sessionId: SESSION, ordinal, name: "ChatInferenceStarted", payload: create(InferenceStartedEventSchema, { messageId: `m${i}` }), appliedAt: Date.now() },
      entities,
    });
  }
  void store.close();
  return ordinal;
}

interface RawRow {
  kind: string;
  id: string;
  created_ordinal: number;
  last_event_ordinal: number;
  type_name: string;
  payload: Uint8Array;
}

/** The hand-written path: SELECT, decode each payload, protobuf JSON, one JSON.stringify. */
function rawSnapshot(
  sessionId: string,
  selectCursor: Database.Statement,
  select: Database.Statement,
  schemaOf: (typeName: string) => DescMessage,
): string {
  const cursor = (selectCursor.get(sessionId) as { cursor: number } | undefined)?.cursor ?? 0;
  const entities = (select.all(sessionId) as RawRow[]).map((r) => {
    const schema = schemaOf(r.type_name);
    return {
      kind: r.kind,
      id: r.id,
      createdOrdinal: String(r.created_ordinal),
      lastEventOrdinal: String(r.last_event_ordinal),
      payload: { "@type": `type.googleapis.com/${r.type_name}`, ...(toJson(schema, fromBinary(schema, r.payload)) as object) },
    };
  });
  return JSON.stringify({ snapshot: { sessionId, snapshotOrdinal: String(cursor), entities } });
}

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once("message", (data: WebSocket.RawData) => resolve(data.toString())));
}
