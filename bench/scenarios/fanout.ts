// Scenario 3: fanout of one session to 10/100/1000 websocket clients on
// loopback, frames delivered per second; against a bare `ws` server
// that builds each websocket frame once (`Sender.frame`) and writes that
// same buffer to every socket (also with every socket corked for the burst,
// so each socket's frames leave in one write, as ours coalesces them per
// tick), and a Socket.IO room.
//
// Fairness: the clients live in one child process (swarm-child.ts), so the
// server under test has the parent's event loop to itself; the child counts
// raw websocket messages of ours and of bare ws without parsing them, while
// the Socket.IO client decodes (JSON-parses) every packet before its handler
// runs, which only slows the Socket.IO side's receiving process. Time runs from the first
// publish to the child's report that the last expected frame arrived.
import { create } from "@bufbuild/protobuf";
import { TokensDeltaEventSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { transport } from "../lib/pkg.js";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { ChatMessageUpdateSchema } from "../../fixtures/runtime/gen/chat/v1/chat_pb.js";
import { interleave } from "../lib/measure.js";
import { makeRow } from "../lib/row.js";
import { startBareWs, startOurs, startSocketIo } from "../lib/servers.js";
import { isDoneOrTimeout, isReady, Swarm } from "../lib/swarm.js";
import type { Row, Scenario } from "../lib/types.js";

const SESSION = "fanout";

export const scenario: Scenario = {
  name: "fanout",
  title: "Fanout to N websocket clients of one session",
  description:
    "ours: hub.publish (UI projection only, memory store) -> createWebSocketServer fanout (one protobuf JSON frame per UI event, sent to every subscriber). " +
    "ws: a bare ws server framing the pre-serialized message once per event (Sender.frame) and writing the same buffer to every socket. " +
    "ws corked: the same with every socket corked for the burst (one writev per socket, as ours coalesces a tick's frames). socket.io: io.to(room).emit of the same payload object. " +
    "Clients in a child process; frames/s = clients x events / (first publish -> last frame counted).",
  async run(ctx) {
    const totalFrames = ctx.quick ? 30_000 : 200_000;
    const sizes = [10, 100, 1000];
    const rows: Row[] = [];
    const swarm = new Swarm();
    try {
      for (const n of sizes) {
        const events = Math.max(20, Math.floor(totalFrames / n));
        // The same message the hub publishes; the UI projection turns it into a ChatMessageAppended frame.
        const payload = create(TokensDeltaEventSchema, { messageId: "m0", chunk: "token " });
        const ours = await startOurs({ timeline: false, limits: { maxQueuedBytesPerConnection: 512 * 1024 * 1024 } });
        const bare = await startBareWs();
        const sio = await startSocketIo();
        const frame = transport.encodeServerFrame(
          {
            case: "uiEvent",
            value: {
              $typeName: "sessionstream.v1.UiEventFrame",
              sessionId: SESSION,
              eventOrdinal: 1n,
              name: "ChatMessageAppended",
              payload: anyPack(ChatMessageUpdateSchema, create(ChatMessageUpdateSchema, { messageId: "m0", chunk: "token " })),
            },
          },
          ours.hub.registry.typeRegistry,
        );
        const sioPayload = JSON.parse(frame.data.toString("utf8")) as unknown;
        try {
          await swarm.connect(`ours${n}`, "ours", ours.url, n, SESSION);
          await swarm.connect(`ws${n}`, "ws", bare.url, n, SESSION);
          await swarm.connect(`sio${n}`, "sio", sio.url, n, SESSION);
          const pub = ours.hub.publisher(SESSION);
          const measure = async (group: string, send: () => Promise<void> | void): Promise<number> => {
            const expected = n * events;
            await swarm.request({ op: "expect", group, count: expected, timeoutMs: 120_000 }, isReady(group));
            const done = swarm.next(isDoneOrTimeout(group));
            const t0 = process.hrtime.bigint();
            await send();
            const r = await done;
            if (r.op === "timeout") throw new Error(`${group}: ${r.received} of ${r.expected} frames arrived in time`);
            return expected / (Number(BigInt(r.at) - t0) / 1e9);
          };
          const stats = await interleave(ctx, `${n} clients x ${events} events`, {
            ours: () =>
              measure(`ours${n}`, async () => {
                for (let i = 0; i < events; i++) await pub.publish("ChatTokensDelta", payload);
              }),
            ws: () =>
              measure(`ws${n}`, () => {
                for (let i = 0; i < events; i++) bare.broadcastPreFramed(frame.data);
              }),
            // The same, each socket corked for the burst: one write per socket, as ours coalesces per tick.
            wsCorked: () =>
              measure(`ws${n}`, () => {
                bare.corkUntilNextTick();
                for (let i = 0; i < events; i++) bare.broadcastPreFramed(frame.data);
              }),
            sio: () =>
              measure(`sio${n}`, () => {
                for (let i = 0; i < events; i++) sio.io.to(SESSION).emit("ui", sioPayload);
              }),
          });
          const common = { scenario: "fanout", size: `${n} clients x ${events} ev`, metric: "delivery", unit: "frames/s", higherIsBetter: true, ours: stats.ours };
          rows.push(makeRow({ ...common, baselineName: "bare ws", baseline: stats.ws, target: { of: "ratio", op: ">=", value: 0.8 } }));
          rows.push(makeRow({ ...common, baselineName: "bare ws corked", baseline: stats.wsCorked }));
          rows.push(makeRow({ ...common, baselineName: "socket.io", baseline: stats.sio, target: { of: "ratio", op: ">=", value: 1.5 } }));
        } finally {
          await swarm.request({ op: "close" }, (r): r is { op: "closed" } => r.op === "closed");
          await ours.close();
          await bare.close();
          await sio.close();
        }
      }
    } finally {
      await swarm.close();
    }
    return rows;
  },
};
