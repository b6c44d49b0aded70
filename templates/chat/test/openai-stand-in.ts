// A local stand-in for an OpenAI-compatible chat-completions endpoint, on
// loopback: it answers each POST /v1/chat/completions with the next scripted
// stream of server-sent events (chunked deltas, tool calls, an error
// mid-stream, a slow stream), records the requests, and notices when a client
// aborts. Tests point OPENAI_BASE_URL at it; nothing goes to the internet.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One SSE `data:` payload (a chunk object, or `{ error }`), sent after `delayMs`. */
export interface ScriptedEvent {
  readonly data: unknown;
  readonly delayMs?: number;
}

/** A request as the stand-in received it. */
export interface RecordedRequest {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: any;
  /** True when the client closed the connection before the stream ended. */
  aborted: boolean;
}

export interface StandIn {
  readonly baseURL: string;
  readonly requests: RecordedRequest[];
  /** Queues the stream the next request gets. */
  script(events: ScriptedEvent[]): void;
  close(): Promise<void>;
}

/** A `chat.completion.chunk` with one choice. */
export function chunk(delta: Record<string, unknown>, finishReason: string | null = null): unknown {
  return { id: "chatcmpl-standin", object: "chat.completion.chunk", created: 0, model: "stand-in", choices: [{ index: 0, delta, finish_reason: finishReason }] };
}

/** Content deltas for each piece of text, then a chunk with the finish reason. */
export function textStream(pieces: string[], finishReason = "stop", delayMs = 0): ScriptedEvent[] {
  return [
    { data: chunk({ role: "assistant", content: "" }) },
    ...pieces.map((content) => ({ data: chunk({ content }), delayMs })),
    { data: chunk({}, finishReason), delayMs },
  ];
}

export async function startStandIn(): Promise<StandIn> {
  const scripts: ScriptedEvent[][] = [];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", async () => {
      const record: RecordedRequest = { path: req.url ?? "", authorization: req.headers.authorization, body: JSON.parse(raw || "{}"), aborted: false };
      requests.push(record);
      const events = scripts.shift();
      if (!events || req.url !== "/v1/chat/completions") {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no scripted stream for ${req.url}` } }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      let open = true;
      res.on("close", () => {
        if (!res.writableFinished) record.aborted = true;
        open = false;
      });
      for (const event of events) {
        if (event.delayMs) await new Promise((r) => setTimeout(r, event.delayMs));
        if (!open) return;
        res.write(`data: ${JSON.stringify(event.data)}\n\n`);
      }
      if (open) res.end("data: [DONE]\n\n");
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (events) => void scripts.push(events),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
