import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import type { ClientFrame } from "../gen/sessionstream/v1/transport_pb.js";
import { SessionstreamError } from "../runtime/errors.js";
import type { UIEvent, UIFanout } from "../runtime/handlers.js";
import { Connection } from "./connection.js";
import { FlushScheduler } from "./flush-scheduler.js";
import { decodeClientFrame, encodeError, encodeServerFrame, encodeSnapshot, encodeUIEvent, type EncodedFrame } from "./frame-codec.js";
import { CloseCode, resolveLimits, type TransportLimits } from "./limits.js";
import { notify, type TransportObserver } from "./observer.js";
import { errorDetail, INTERNAL_ERROR_MESSAGE, toPublicError } from "./internal-error.js";
import { hostRefusal, isAuthorized, isHostAllowed, isOriginAllowed, type Authorize } from "./security.js";
import { validateSessionId } from "../runtime/session.js";
import { resumeSnapshot, type ResumedSnapshot } from "./resume.js";
import { Subscription, type BufferedFrame } from "./subscription.js";
import type { TransportHub } from "./transport-hub.js";

/** Options of {@link createWebSocketServer}. */
export interface WebSocketServerOptions {
  readonly hub: TransportHub;
  /** URL path served; upgrades on other paths are left alone. Default `"/ws"`. */
  readonly path?: string;
  /** Called for `connect` (before the upgrade completes) and `subscribe`. Default: allow. */
  readonly authorize?: Authorize;
  /** Exact origins allowed besides same-origin and non-browser clients; `"*"` must be explicit. Default: none. */
  readonly allowedOrigins?: readonly string[];
  /**
   * Host names answered besides `localhost`, `*.localhost` and IP addresses when a
   * request arrives on a loopback address (DNS rebinding protection; see `isHostAllowed`):
   * `"app.example"`, `".app.example"` (with subdomains), or `"*"` (any). Non-empty, it
   * applies on every address. Default: none.
   */
  readonly allowedHosts?: readonly string[];
  /** Limits; see {@link TransportLimits} for each default. */
  readonly limits?: Partial<TransportLimits>;
  /** Receives connection, subscription and error records. */
  readonly observer?: TransportObserver;
  /** Attach this server as a UI fanout of `hub`. Default `true`; `false` when the caller wires `publishUI` itself. */
  readonly attachToHub?: boolean;
  /**
   * What happens when live frames would exceed `maxQueuedBytesPerConnection`.
   * `"disconnect"` (the default): `slow_consumer` error frame, close 1013,
   * the client reconnects. `"resync"`: for clients that opted in to
   * `?resume=delta` (they handle a snapshot on a live subscription), the
   * subscription that fell behind drops its live frames instead of queueing
   * them and, once the connection's queue has drained, gets a fresh snapshot
   * (a delta from its last snapshot, `resync: true`) and `subscribed` again,
   * on the same connection. Other clients are still disconnected. Memory
   * stays bounded either way: frames over the limit are never queued.
   */
  readonly slowConsumers?: "disconnect" | "resync";
}

/**
 * What {@link SessionstreamWebSocketServer.attach} needs of a server: its
 * `upgrade` event. A node `http` or `https` server has it, and so has the
 * server a framework runs on: `http.createServer(app)` or `app.listen()` of
 * Express, `fastify.server`, the server `serve()` of `@hono/node-server` returns.
 */
export interface UpgradeSource {
  on(event: "upgrade", listener: (request: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
  off(event: "upgrade", listener: (request: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
}

/** Counters of a running server. */
export interface TransportStats {
  readonly connections: number;
  readonly subscriptions: number;
  /** Bytes queued across all connections and not yet written to their sockets. */
  readonly queuedBytes: number;
  readonly perConnection: ReadonlyArray<{ readonly connectionId: string; readonly queuedBytes: number; readonly subscriptions: readonly string[] }>;
}

/** The websocket endpoint: an HTTP upgrade handler and the hub's UI fanout. */
export interface SessionstreamWebSocketServer extends UIFanout {
  readonly path: string;
  readonly limits: TransportLimits;
  /** Handles an `upgrade` event; returns `false` (and leaves the socket alone) when the path does not match. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Listens to `upgrade` on an HTTP server; returns a function that stops listening. */
  attach(server: UpgradeSource): () => void;
  stats(): TransportStats;
  /**
   * Tells the server that the session's timeline was rebuilt (its epoch
   * changed). Each live subscription of a client that opted in
   * (`resume=delta`) gets a `reset` snapshot, then `subscribed`, on its
   * connection, so it does not keep the old timeline until it resubscribes.
   * Reference clients are left alone (they get the new timeline on their next
   * subscribe). Call it after `hub.rebuildTimeline(sessionId)`.
   */
  timelineRebuilt(sessionId: string): void;
  /** Detaches from the hub and closes every socket (1001). */
  close(): Promise<void>;
}

/**
 * Creates the websocket server of DESIGN section 3: `hello` on connect;
 * `subscribe` -> `snapshot`, buffered UI events newer than it, `subscribed`,
 * then live `uiEvent` frames; `unsubscribe`, `ping`/`pong`; bounded buffers
 * everywhere. Each UI event is serialized and framed once per fanout; each
 * connection writes the frames of a tick in one socket write (see `Connection`).
 */
export function createWebSocketServer(options: WebSocketServerOptions): SessionstreamWebSocketServer {
  const { hub, observer } = options;
  const path = options.path ?? "/ws";
  const limits = resolveLimits(options.limits);
  const resyncSlowConsumers = options.slowConsumers === "resync";
  const registry = () => hub.registry.typeRegistry;
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxFrameBytes, clientTracking: false });
  const connections = new Map<string, Connection>();
  const bySession = new Map<string, Set<Connection>>();
  const byWs = new WeakMap<WebSocket, Connection>();
  /** Coalesces each connection's frames of a tick into one socket write. */
  const flusher = new FlushScheduler(limits.maxQueuedBytesPerConnection);
  /** Upgrades waiting for the `connect` authorization; they count against `maxConnections`. */
  let pendingUpgrades = 0;
  let closed = false;

  const heartbeat =
    limits.heartbeatIntervalMs > 0
      ? setInterval(function heartbeatTick() {
          for (const conn of connections.values()) {
            if (conn.awaitingPong) {
              drop(conn, "heartbeat_timeout", `no pong within ${limits.heartbeatIntervalMs} ms`);
              conn.ws.terminate();
              continue;
            }
            conn.awaitingPong = true;
            conn.ws.ping();
          }
        }, limits.heartbeatIntervalMs)
      : undefined;
  heartbeat?.unref();

  /**
   * Queues a frame within `maxQueuedBytesPerConnection`. A frame that does not
   * fit is a slow consumer: the live subscription `sub` it belongs to resyncs
   * when the connection can (see `slowConsumers`), otherwise the connection is closed.
   */
  function send(conn: Connection, frame: EncodedFrame, sub?: Subscription): boolean {
    if (conn.closing) return false;
    if (!conn.fits(frame)) {
      if (sub !== undefined && resyncSlowConsumers && conn.deltaSnapshots) {
        resync(conn, sub, "slow_consumer", `live frames of session "${sub.sessionId}" exceed maxQueuedBytesPerConnection ${limits.maxQueuedBytesPerConnection}: dropped, a fresh snapshot follows`);
        return false;
      }
      violate(
        conn,
        "slow_consumer",
        `outbound queue of ${conn.queuedLiveBytes + frame.bytes} bytes would exceed maxQueuedBytesPerConnection ${limits.maxQueuedBytesPerConnection}`,
        CloseCode.tryAgainLater,
      );
      return false;
    }
    conn.write(frame);
    return true;
  }

  /**
   * Sends a snapshot frame. It is admitted outside `maxQueuedBytesPerConnection`
   * (a session's snapshot may be bigger than the live queue), within
   * `maxSnapshotBytes` of snapshot bytes queued on the connection.
   */
  function sendSnapshot(conn: Connection, frame: EncodedFrame): boolean {
    if (conn.closing) return false;
    if (!conn.fitsSnapshot(frame)) {
      violate(
        conn,
        "slow_consumer",
        `outbound queue of ${conn.queuedLiveBytes} live bytes and ${conn.queuedSnapshotBytes + frame.bytes} snapshot bytes would exceed maxQueuedBytesPerConnection ${limits.maxQueuedBytesPerConnection} or maxSnapshotBytes ${limits.maxSnapshotBytes}`,
        CloseCode.tryAgainLater,
      );
      return false;
    }
    conn.writeSnapshot(frame);
    return true;
  }

  function sendError(conn: Connection, err: SessionstreamError, sessionId = ""): void {
    const internal = internalErrors.get(err);
    notify(observer, {
      type: "error",
      connectionId: conn.id,
      code: err.code,
      message: err.message,
      ...(sessionId ? { sessionId } : {}),
      ...(internal ? { errorId: internal.errorId, detail: errorDetail(internal.cause) } : {}),
    });
    send(conn, encodeError(err.code, err.message, registry(), sessionId));
  }

  /** Sends a last error frame (bypassing the queue limit: it is small), closes, and destroys after the grace period. */
  function violate(conn: Connection, code: string, message: string, closeCode: number, sessionId?: string): void {
    if (conn.closing) return;
    conn.write(encodeError(code, message, registry(), sessionId));
    // The frames queued this tick and the error frame go before the close frame.
    conn.flush();
    drop(conn, code, message, closeCode);
    // Read again (reading may be paused by backpressure) so the peer's close frame is seen.
    conn.ws.resume();
    conn.ws.close(closeCode, code);
    const timer = setTimeout(() => conn.ws.terminate(), limits.closeGraceMs);
    timer.unref();
  }

  /** Forgets a connection: no more fanout, no more frames. */
  function drop(conn: Connection, code?: string, message?: string, closeCode?: number): void {
    if (conn.closing && !connections.has(conn.id)) return;
    conn.closing = true;
    for (const sessionId of conn.subscriptions.keys()) removeFromSession(conn, sessionId);
    conn.subscriptions.clear();
    if (connections.delete(conn.id)) {
      notify(observer, {
        type: "disconnected",
        connectionId: conn.id,
        ...(code ? { code } : {}),
        ...(message ? { message } : {}),
        ...(closeCode ? { closeCode } : {}),
      });
    }
  }

  function removeFromSession(conn: Connection, sessionId: string): void {
    const set = bySession.get(sessionId);
    set?.delete(conn);
    if (set && set.size === 0) bySession.delete(sessionId);
  }

  function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    const conn = byWs.get(this);
    if (!conn || conn.closing) return;
    conn.awaitingPong = false;
    if (isBinary) {
      sendError(conn, new SessionstreamError("bad_client_frame", "binary frames are not supported: send protobuf JSON text frames"));
      return;
    }
    let frame: ClientFrame;
    try {
      frame = decodeClientFrame(rawText(data));
    } catch (err) {
      sendError(conn, SessionstreamError.from(err, "bad_client_frame"));
      return;
    }
    handleFrame(conn, frame).catch(function frameFailed(err: unknown) {
      sendError(conn, publicError(err, "protocol_error"), sessionOf(err));
    });
  }

  function onPong(this: WebSocket): void {
    const conn = byWs.get(this);
    if (conn) conn.awaitingPong = false;
  }

  function onClose(this: WebSocket, code: number): void {
    const conn = byWs.get(this);
    if (conn) drop(conn, undefined, undefined, code);
  }

  function onError(this: WebSocket, err: Error & { code?: string }): void {
    const conn = byWs.get(this);
    if (!conn) return;
    // ws has already closed the socket with 1009 when the frame was too big.
    if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
      drop(conn, "frame_too_large", `client frame exceeds maxFrameBytes ${limits.maxFrameBytes}`, CloseCode.messageTooBig);
    } else {
      drop(conn, "protocol_error", err.message);
    }
  }

  async function handleFrame(conn: Connection, frame: ClientFrame): Promise<void> {
    switch (frame.frame.case) {
      case "ping":
        send(conn, encodeServerFrame({ case: "pong", value: { $typeName: "sessionstream.v1.PongFrame", nonce: frame.frame.value.nonce } }, registry()));
        return;
      case "pong":
        return;
      case "subscribe":
        return subscribe(conn, frame.frame.value.sessionId, frame.frame.value.sinceSnapshotOrdinal, frame.frame.value.epoch);
      case "unsubscribe": {
        const sessionId = requireSessionId(frame.frame.value.sessionId, "unsubscribe");
        conn.cancelSubscribe(sessionId);
        conn.subscriptions.delete(sessionId);
        removeFromSession(conn, sessionId);
        send(conn, encodeServerFrame({ case: "unsubscribed", value: { $typeName: "sessionstream.v1.UnsubscribedFrame", sessionId } }, registry()));
        notify(observer, { type: "unsubscribed", connectionId: conn.id, sessionId });
        return;
      }
      default:
        throw new SessionstreamError("protocol_error", "unknown client frame: expected one of subscribe, unsubscribe, ping, pong");
    }
  }

  async function subscribe(conn: Connection, rawSessionId: string, since: bigint, epoch: bigint): Promise<void> {
    const sessionId = requireSessionId(rawSessionId, "subscribe");
    // Subscribes still waiting for `authorize` count too: pipelined subscribes cannot pass the limit.
    if (!conn.holds(sessionId)) checkSubscriptionLimit(conn, sessionId);
    // Without a hook there is nothing to wait for: the subscribe registers at once.
    if (options.authorize !== undefined) {
      const token = conn.beginSubscribe(sessionId);
      const request = conn.request;
      const allowed =
        request !== undefined && (await isAuthorized(options.authorize, { request, action: "subscribe", connectionId: conn.id, sessionId }));
      // Superseded by a later subscribe, or cancelled by an unsubscribe, while authorizing.
      if (!conn.endSubscribe(sessionId, token) || conn.closing) return;
      if (!allowed) {
        throw withSession(new SessionstreamError("forbidden", `subscribe to session "${sessionId}" is not allowed`), sessionId);
      }
      // Re-checked after the hook: the connection may have changed while it ran.
      if (!conn.subscriptions.has(sessionId)) checkSubscriptionLimit(conn, sessionId);
    }
    // Register before loading, so every UI event the snapshot may miss is buffered.
    const sub = new Subscription(sessionId, since);
    conn.subscriptions.set(sessionId, sub);
    let set = bySession.get(sessionId);
    if (!set) bySession.set(sessionId, (set = new Set()));
    set.add(conn);

    await hydrate(conn, sub, since, epoch, false);
  }

  /**
   * Loads the snapshot of a hydrating subscription and sends it, the UI
   * frames buffered meanwhile and `subscribed`; the subscription turns live.
   * For a client that opted in (`resume=delta`) the snapshot resumes from
   * `since` in timeline epoch `epoch` (recovered, snapshot or reset) and
   * carries the extension fields; others get the reference's full snapshot.
   * `resync`: sent unasked to a subscription that fell behind.
   */
  async function hydrate(conn: Connection, sub: Subscription, since: bigint, epoch: bigint, resync: boolean): Promise<void> {
    const sessionId = sub.sessionId;
    let frame: EncodedFrame;
    let snapshotOrdinal: bigint;
    let resumed: ResumedSnapshot;
    try {
      resumed = await resumeSnapshot(hub, sessionId, conn.deltaSnapshots ? since : 0n, epoch);
      snapshotOrdinal = resumed.snapshot.snapshotOrdinal;
      const extension = conn.deltaSnapshots ? { epoch: resumed.epoch, resume: resumed.resume, resync } : undefined;
      frame = encodeSnapshot(resumed.snapshot, resumed.changedAfter, registry(), extension);
    } catch (err) {
      if (conn.subscriptions.get(sessionId) === sub) {
        conn.subscriptions.delete(sessionId);
        removeFromSession(conn, sessionId);
      }
      throw withSession(publicError(err, "snapshot_failed"), sessionId);
    }
    // Unsubscribed, resubscribed, overflowed or closed while loading: this hydration is void.
    if (conn.subscriptions.get(sessionId) !== sub || conn.closing) return;
    if (frame.bytes > limits.maxSnapshotBytes) {
      conn.subscriptions.delete(sessionId);
      removeFromSession(conn, sessionId);
      throw withSession(
        new SessionstreamError(
          "snapshot_too_large",
          `snapshot of session "${sessionId}" is ${frame.bytes} bytes, more than maxSnapshotBytes ${limits.maxSnapshotBytes}`,
        ),
        sessionId,
      );
    }
    // Snapshot, buffered frames and `subscribed` leave the socket in one write (the connection coalesces a tick's frames).
    if (!sendSnapshot(conn, frame)) return;
    sub.epoch = resumed.epoch;
    const drained = sub.drain(snapshotOrdinal);
    for (const buffered of drained.frames) if (!send(conn, buffered, sub)) return;
    sub.state = "live";
    send(
      conn,
      encodeServerFrame({ case: "subscribed", value: { $typeName: "sessionstream.v1.SubscribedFrame", sessionId, sinceSnapshotOrdinal: since } }, registry()),
    );
    if (drained.gap) missedEvents(conn, sub, sub.last);
    notify(observer, { type: "subscribed", connectionId: conn.id, sessionId, resume: resumed.resume, ...(resync ? { code: "resync" } : {}) });
  }

  /**
   * Resyncs a live subscription that fell behind (`slowConsumers: "resync"`)
   * or missed events (a gap in its session's ordinals): its UI frames are
   * dropped from now on; once the connection's queue has drained it hydrates
   * again, resuming from its last snapshot.
   */
  function resync(conn: Connection, sub: Subscription, code: "slow_consumer" | "events_missed", message: string): void {
    if (sub.state === "resyncing") return;
    sub.state = "resyncing";
    const sessionId = sub.sessionId;
    notify(observer, { type: "resync", connectionId: conn.id, sessionId, code, message });
    conn.whenDrained(function resyncDrained() {
      // Unsubscribed, resubscribed or closed meanwhile: nothing to resync.
      if (conn.subscriptions.get(sessionId) !== sub || conn.closing) return;
      rehydrate(conn, sub, sub.floor, true);
    });
  }

  /**
   * A subscription that missed events of its session (another node applied
   * them and died before telling this one): a client that opted in to
   * `resume=delta` is resynced; a reference client, which cannot take an
   * unasked snapshot, is closed with 1013 and resubscribes from its ordinal.
   */
  function missedEvents(conn: Connection, sub: Subscription, ordinal: bigint): void {
    const message = `events of session "${sub.sessionId}" up to ordinal ${ordinal} were applied by another node whose live frames never arrived: a fresh snapshot follows`;
    if (conn.deltaSnapshots) resync(conn, sub, "events_missed", message);
    else violate(conn, "events_missed", `${message} after a reconnect`, CloseCode.tryAgainLater, sub.sessionId);
  }

  /** Hydrates a subscription again on its connection (a resync or a rebuild's reset); a failure becomes an error frame. */
  function rehydrate(conn: Connection, sub: Subscription, since: bigint, resync: boolean): void {
    sub.state = "hydrating";
    hydrate(conn, sub, since, sub.epoch, resync).catch(function rehydrateFailed(err: unknown) {
      sendError(conn, publicError(err, "snapshot_failed"), sub.sessionId);
    });
  }

  /** Throws `too_many_subscriptions` when `conn` holds (or waits for) `maxSubscriptionsPerConnection` sessions already. */
  function checkSubscriptionLimit(conn: Connection, sessionId: string): void {
    const count = conn.subscriptionCount;
    if (count < limits.maxSubscriptionsPerConnection) return;
    throw withSession(
      new SessionstreamError(
        "too_many_subscriptions",
        `connection already has ${count} subscriptions, pending ones included (maxSubscriptionsPerConnection ${limits.maxSubscriptionsPerConnection}); unsubscribe from one first`,
      ),
      sessionId,
    );
  }

  function timelineRebuilt(sessionId: string): void {
    const targets = bySession.get(sessionId);
    if (!targets) return;
    for (const conn of targets) {
      const sub = conn.subscriptions.get(sessionId);
      // A hydrating or resyncing subscription resumes in its epoch anyway: a changed one answers `reset`.
      if (!sub || !conn.deltaSnapshots || conn.closing || sub.state !== "live") continue;
      // A store without epochs cannot tell a reset: the subscription then gets a full snapshot.
      rehydrate(conn, sub, sub.epoch === 0n ? 0n : sub.floor, false);
    }
  }

  function publishUI(sessionId: string, ordinal: bigint, uiEvents: readonly UIEvent[]): void {
    const targets = bySession.get(sessionId);
    if (!targets || targets.size === 0) return;
    if (uiEvents.length === 0) return advance(sessionId, ordinal);
    // Serialize and frame once per UI event; every subscriber gets the same bytes, each
    // connection writes what it got this tick in one socket write (see Connection).
    const frames = uiEvents.map((ui) => encodeUIEvent(sessionId, ordinal, ui.name, ui.payload, registry()));
    // No copy of `targets`: a connection dropped on the way only deletes itself (or a
    // connection not visited yet, which then is rightly skipped) from the set.
    for (const conn of targets) {
      const sub = conn.subscriptions.get(sessionId);
      if (!sub) continue;
      if (sub.state === "live") {
        const admission = sub.accept(ordinal);
        if (admission === "stale") continue;
        if (admission === "gap") {
          missedEvents(conn, sub, ordinal);
          continue;
        }
        for (const frame of frames) if (!send(conn, frame, sub)) break;
        continue;
      }
      // Fell behind: dropped until its resync snapshot, which will reflect this event.
      if (sub.state === "resyncing") continue;
      for (const frame of frames) if (!bufferWhileHydrating(conn, sub, { ordinal, frame })) break;
    }
  }

  /** An applied event without UI events: keeps each subscription's ordinals dense, so a later gap shows. */
  function advance(sessionId: string, ordinal: bigint): void {
    for (const conn of bySession.get(sessionId) ?? []) {
      const sub = conn.subscriptions.get(sessionId);
      if (!sub || sub.state === "resyncing") continue;
      if (sub.state === "hydrating") bufferWhileHydrating(conn, sub, { ordinal });
      else if (sub.accept(ordinal) === "gap") missedEvents(conn, sub, ordinal);
    }
  }

  /** An event the hub knows was applied but has no UI events for (see `UIFanout.missed`). */
  function missed(sessionId: string, ordinal: bigint): void {
    for (const conn of bySession.get(sessionId) ?? []) {
      const sub = conn.subscriptions.get(sessionId);
      if (!sub || sub.state === "resyncing") continue;
      if (sub.state === "hydrating") bufferWhileHydrating(conn, sub, { ordinal, missed: true });
      else if (ordinal > sub.last) missedEvents(conn, sub, ordinal);
    }
  }

  /** Buffers what arrives for a hydrating subscription; false when the buffer overflowed (the subscription is dropped). */
  function bufferWhileHydrating(conn: Connection, sub: Subscription, item: BufferedFrame): boolean {
    const overflow = sub.buffer(item, limits.maxHydrationBufferEvents, limits.maxHydrationBufferBytes);
    if (overflow === undefined) return true;
    conn.subscriptions.delete(sub.sessionId);
    removeFromSession(conn, sub.sessionId);
    sendError(conn, new SessionstreamError("hydration_buffer_overflow", overflow), sub.sessionId);
    return false;
  }

  function onConnection(ws: WebSocket, socket: Duplex, request: IncomingMessage, connectionId: string, allowed: boolean): void {
    if (!allowed) {
      notify(observer, { type: "refused", connectionId, code: "forbidden", closeCode: CloseCode.policyViolation });
      ws.send(encodeError("forbidden", "connection refused by authorize", registry()).data, { binary: false });
      ws.close(CloseCode.policyViolation, "forbidden");
      setTimeout(() => ws.terminate(), limits.closeGraceMs).unref();
      return;
    }
    // The upgrade request is kept only for an `authorize` hook (subscribe); otherwise it is released now.
    const conn = new Connection(connectionId, ws, socket, options.authorize ? request : undefined, limits, wantsDelta(request), flusher);
    connections.set(connectionId, conn);
    byWs.set(ws, conn);
    ws.on("message", onMessage);
    ws.on("pong", onPong);
    ws.on("close", onClose);
    ws.on("error", onError);
    notify(observer, { type: "connected", connectionId });
    send(conn, encodeServerFrame({ case: "hello", value: { $typeName: "sessionstream.v1.HelloFrame", connectionId } }, registry()));
  }

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (pathOf(request) !== path) return false;
    if (closed) return rejectUpgrade(socket, 503, "Service Unavailable"), true;
    if (!isHostAllowed(request, options.allowedHosts)) return refuseUpgrade(socket, hostRefusal(request)), true;
    if (!isOriginAllowed(request, options.allowedOrigins)) {
      return refuseUpgrade(socket, `origin ${request.headers.origin} is not allowed: same-origin only, or list it in allowedOrigins`), true;
    }
    // Upgrades still waiting for `authorize` count too: concurrent upgrades cannot pass the limit.
    if (connections.size + pendingUpgrades >= limits.maxConnections) return refuseOverLimit(socket), true;
    const connectionId = randomUUID();
    pendingUpgrades++;
    isAuthorized(options.authorize, { request, action: "connect", connectionId }).then((allowed) => {
      pendingUpgrades--;
      if (closed || socket.destroyed) return socket.destroy();
      // Re-checked after the hook: connections may have been accepted while it ran.
      if (allowed && connections.size >= limits.maxConnections) return refuseOverLimit(socket);
      wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws, socket, request, connectionId, allowed));
    }, () => {
      pendingUpgrades--;
      socket.destroy();
    });
    return true;
  }

  /** Refuses an upgrade with HTTP 403 and a `forbidden` JSON body naming the problem. */
  function refuseUpgrade(socket: Duplex, message: string): void {
    notify(observer, { type: "refused", connectionId: "", code: "forbidden", message });
    rejectUpgrade(socket, 403, "Forbidden", JSON.stringify({ error: { code: "forbidden", message } }));
  }

  function refuseOverLimit(socket: Duplex): void {
    notify(observer, { type: "refused", connectionId: "", code: "unavailable", message: `maxConnections ${limits.maxConnections} reached` });
    rejectUpgrade(socket, 503, "Service Unavailable");
  }

  // `advance`, `missed` and `timelineRebuilt` ride along for a hub that calls them.
  const detach = options.attachToHub === false ? () => {} : hub.attachFanout({ publishUI, advance, missed, timelineRebuilt } as UIFanout);

  return {
    path,
    limits,
    publishUI,
    advance,
    missed,
    timelineRebuilt,
    handleUpgrade,
    attach(server) {
      const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        handleUpgrade(req, socket, head);
      };
      server.on("upgrade", listener);
      return () => server.off("upgrade", listener);
    },
    stats() {
      const perConnection = [...connections.values()].map((c) => ({
        connectionId: c.id,
        queuedBytes: c.queuedBytes,
        subscriptions: [...c.subscriptions.keys()],
      }));
      return {
        connections: perConnection.length,
        subscriptions: perConnection.reduce((n, c) => n + c.subscriptions.length, 0),
        queuedBytes: perConnection.reduce((n, c) => n + c.queuedBytes, 0),
        perConnection,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      detach();
      if (heartbeat) clearInterval(heartbeat);
      const waits = [...connections.values()].map(
        (conn) =>
          new Promise<void>((resolve) => {
            conn.ws.once("close", () => resolve());
            conn.flush();
            drop(conn, "closed", "server closing", CloseCode.goingAway);
            conn.ws.resume();
            conn.ws.close(CloseCode.goingAway, "server closing");
            setTimeout(() => {
              conn.ws.terminate();
              resolve();
            }, limits.closeGraceMs).unref();
          }),
      );
      await Promise.all(waits);
      wss.close();
    },
  };
}

/** Internal errors sent to clients without their detail: the id and the original error, for the observer. */
const internalErrors = new WeakMap<SessionstreamError, { readonly errorId: string; readonly cause: unknown }>();

/**
 * What a client may see of `err`: a `SessionstreamError` as is; anything
 * else (a store's `TypeError`, a bug) as `code` with "internal error (errorId ...)",
 * its detail kept for the observer's `error` record under the same id.
 */
function publicError(err: unknown, code: SessionstreamError["code"]): SessionstreamError {
  const { error, errorId } = toPublicError(err, code);
  if (errorId === undefined) return error;
  // Not `error` itself: the frame names the id in its message (ErrorFrame has no field for it).
  // The caller's code (`snapshot_failed` tells the client to retry), also for a store_failed or projection_failed.
  const masked = new SessionstreamError(code, `${INTERNAL_ERROR_MESSAGE} (errorId ${errorId})`, { cause: err });
  internalErrors.set(masked, { errorId, cause: err });
  return masked;
}

function requireSessionId(sessionId: string, frame: string): string {
  if (sessionId === "") throw new SessionstreamError("protocol_error", `${frame} is missing session_id`);
  try {
    validateSessionId(sessionId);
  } catch (err) {
    throw withSession(SessionstreamError.from(err, "invalid_session_id"), sessionId);
  }
  return sessionId;
}

/** Remembers which session an error concerns, for the `error` frame's `session_id`. */
function withSession(err: SessionstreamError, sessionId: string): SessionstreamError {
  (err as SessionstreamError & { sessionId?: string }).sessionId = sessionId;
  return err;
}

function sessionOf(err: unknown): string {
  return (err as { sessionId?: string } | undefined)?.sessionId ?? "";
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

function wantsDelta(request: IncomingMessage): boolean {
  return new URL(request.url ?? "/", "http://localhost").searchParams.get("resume") === "delta";
}

function rejectUpgrade(socket: Duplex, status: number, text: string, body = ""): void {
  const type = body === "" ? "" : "Content-Type: application/json; charset=utf-8\r\n";
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${type}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
