import type { IncomingMessage, ServerResponse } from "node:http";
import { toJson } from "@bufbuild/protobuf";
import type { AppSchema } from "../runtime/app-schema.js";
import type { AppliedEvent } from "../runtime/handlers.js";
import type { Hub } from "../runtime/hub.js";
import type { RunRecord } from "../runtime/runs.js";
import { validateSessionId } from "../runtime/session.js";
import type { TimelineEntity } from "../runtime/timeline.js";
import { hasEventLog, hasSessionList } from "../store/hydration-store.js";
import { isOriginAllowed } from "../transport/security.js";
import type { AppStatus } from "./app-host.js";
import type { DriftMonitor, DriftProblem } from "./drift-check.js";

/** Prefix of the inspector's page and JSON API. */
export const INSPECTOR_PREFIX = "/__sessionstream";

const MAX_EVENTS_PER_PAGE = 1000;

/**
 * The inspector's JSON API and its live stream (server-sent events): status,
 * sessions, a session's event log, timeline and runs, every applied event,
 * and `POST .../runs/:runId/stop` (the runs panel's Stop button).
 */
export class InspectorApi {
  readonly #streams = new Set<ServerResponse>();
  readonly #getHub: () => Hub<AppSchema> | undefined;
  readonly #getStatus: () => AppStatus;
  readonly #drift: DriftMonitor | undefined;

  constructor(getHub: () => Hub<AppSchema> | undefined, getStatus: () => AppStatus, drift?: DriftMonitor) {
    this.#getHub = getHub;
    this.#getStatus = getStatus;
    this.#drift = drift;
  }

  /** Handles `/__sessionstream/api/...`; returns false for other paths. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<boolean> {
    const prefix = `${INSPECTOR_PREFIX}/api/`;
    if (!path.startsWith(prefix)) return false;
    const parts = path.slice(prefix.length).split("/").map(decodeURIComponent);
    if (req.method === "POST" && parts[0] === "runs" && parts.length === 3 && parts[2] === "stop") return this.#stopRun(req, res, parts[1]!);
    if (req.method !== "GET") return false;
    if (parts[0] === "status") return sendJson(res, 200, this.#getStatus());
    if (parts[0] === "stream") return this.#openStream(res);
    // The drift check's current problems (all sessions, or `?session=`); `enabled: false` with --no-drift-check.
    if (parts[0] === "drift") {
      const session = query.get("session") ?? undefined;
      return sendJson(res, 200, { enabled: this.#drift !== undefined, problems: this.#drift?.problems(session) ?? [] });
    }
    const hub = this.#getHub();
    if (!hub) return sendError(res, 503, "app_not_loaded", this.#getStatus().error ?? "the app is not loaded");
    if (parts[0] === "sessions" && parts.length === 1) {
      const sessions = hasSessionList(hub.store) ? await hub.store.listSessions() : [];
      return sendJson(res, 200, { sessions: sessions.map((s) => ({ sessionId: s.sessionId, cursor: s.cursor.toString() })) });
    }
    if (parts[0] === "sessions" && parts.length === 3) {
      const sessionId = parts[1]!;
      try {
        validateSessionId(sessionId);
      } catch (err) {
        return sendError(res, 400, "invalid_session_id", (err as Error).message);
      }
      if (parts[2] === "events") {
        if (!hasEventLog(hub.store)) return sendJson(res, 200, { events: [] });
        const after = BigInt(/^\d+$/.test(query.get("after") ?? "") ? query.get("after")! : "0");
        const events = await hub.store.readEvents(sessionId, after, MAX_EVENTS_PER_PAGE);
        return sendJson(res, 200, {
          events: events.map((e) => eventJson(hub, { sessionId, ordinal: e.ordinal, name: e.name, payload: e.payload })),
        });
      }
      if (parts[2] === "runs") return sendJson(res, 200, await runsJson(hub, sessionId));
      if (parts[2] === "timeline") {
        const snap = await hub.snapshot(sessionId);
        return sendJson(res, 200, {
          sessionId,
          snapshotOrdinal: snap.snapshotOrdinal.toString(),
          entities: snap.entities.map((e) => entityJson(hub, e)),
        });
      }
    }
    return sendError(res, 404, "not_found", `no inspector endpoint ${path}`);
  }

  /**
   * `POST /__sessionstream/api/runs/:runId/stop`: `hub.stopRun(runId)`; answers
   * its result (`{ runId, stopped, state, requested? }`: a run that is over
   * says how it ended, an unknown id says `unknown` with 404). Same-origin
   * only: another site's page must not stop runs on a developer's machine.
   */
  async #stopRun(req: IncomingMessage, res: ServerResponse, runId: string): Promise<true> {
    if (!isOriginAllowed(req, undefined)) return sendError(res, 403, "forbidden", "cross-origin requests may not stop runs");
    const hub = this.#getHub();
    if (!hub) return sendError(res, 503, "app_not_loaded", this.#getStatus().error ?? "the app is not loaded");
    if (typeof hub.stopRun !== "function") return sendError(res, 501, "not_implemented", "this app's sessionstream has no runs");
    const result = await hub.stopRun(runId);
    return sendJson(res, result.state === "unknown" ? 404 : 200, result);
  }

  /** Pushes an applied event to every open inspector. */
  publishEvent(hub: Hub<AppSchema>, applied: AppliedEvent): void {
    if (this.#streams.size === 0) return;
    this.#broadcast("event", eventJson(hub, applied.event));
  }

  /** Pushes a newly found drift problem to every open inspector. */
  publishDrift(problem: DriftProblem): void {
    this.#broadcast("drift", problem);
  }

  publishStatus(status: AppStatus): void {
    this.#broadcast("status", status);
  }

  /** Ends every open stream (shutdown). */
  close(): void {
    for (const res of this.#streams) res.end();
    this.#streams.clear();
  }

  #openStream(res: ServerResponse): boolean {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    res.write(`event: status\ndata: ${JSON.stringify(this.#getStatus())}\n\n`);
    this.#streams.add(res);
    res.on("close", () => this.#streams.delete(res));
    return true;
  }

  #broadcast(event: string, data: unknown): void {
    const chunk = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.#streams) {
      // A stalled inspector tab must not grow memory: drop it, it reconnects.
      if (res.writableLength > 1 << 20) res.destroy();
      else res.write(chunk);
    }
  }
}

/**
 * A session's runs for the runs panel, oldest first: state, owner (and
 * whether it is this server's hub), age, last heartbeat, and the session's
 * last event (the run's latest output while it streams).
 */
async function runsJson(hub: Hub<AppSchema>, sessionId: string) {
  // A hub of an older sessionstream copy has no runs.
  const runs: RunRecord[] = typeof hub.runs === "function" ? await hub.runs(sessionId) : [];
  const now = Date.now();
  let lastEvent: { ordinal: string; name: string; appliedAt: number } | null = null;
  if (runs.length > 0 && hasEventLog(hub.store)) {
    const cursor = await hub.cursor(sessionId);
    const [last] = cursor > 0n ? await hub.store.readEvents(sessionId, cursor - 1n, 1) : [];
    if (last) lastEvent = { ordinal: last.ordinal.toString(), name: last.name, appliedAt: last.appliedAt };
  }
  return {
    sessionId,
    owner: hub.runOwner,
    lastEvent,
    runs: runs.map((r) => ({
      runId: r.runId,
      kind: r.kind,
      state: r.state,
      owner: r.owner,
      local: r.owner === hub.runOwner,
      data: r.data,
      startedAt: r.startedAt,
      heartbeatAt: r.heartbeatAt,
      ...(r.endedAt !== undefined ? { endedAt: r.endedAt } : {}),
      ...(r.error !== undefined ? { error: r.error } : {}),
      stopRequested: r.stopRequested,
      ageMs: (r.endedAt ?? now) - r.startedAt,
    })),
  };
}

function eventJson(hub: Hub<AppSchema>, e: { sessionId: string; ordinal: bigint; name: string; payload: AppliedEvent["event"]["payload"] }) {
  return { sessionId: e.sessionId, ordinal: e.ordinal.toString(), name: e.name, payload: payloadJson(hub, e.payload) };
}

function entityJson(hub: Hub<AppSchema>, e: TimelineEntity) {
  return {
    kind: e.kind,
    id: e.id,
    createdOrdinal: e.createdOrdinal.toString(),
    lastEventOrdinal: e.lastEventOrdinal.toString(),
    payload: payloadJson(hub, e.payload),
  };
}

function payloadJson(hub: Hub<AppSchema>, payload: AppliedEvent["event"]["payload"]) {
  const schema = hub.registry.typeRegistry.getMessage(payload.$typeName);
  return schema ? toJson(schema, payload, { registry: hub.registry.typeRegistry }) : { "@type": payload.$typeName };
}

/** Writes an error body shaped like the command ingress's: `{ error: { code, message } }`. */
export function sendError(res: ServerResponse, status: number, code: string, message: string): true {
  return sendJson(res, status, { error: { code, message } });
}

/** Writes a JSON response; always returns true (handled). */
export function sendJson(res: ServerResponse, status: number, body: unknown): true {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
  return true;
}
