import { SessionstreamError } from "../../runtime/errors.js";
import { backoffDelay, type BackoffOptions } from "./backoff.js";
import { SessionView, type PayloadDecoder, type SubscribeOptions } from "./session-view.js";
import { submitCommand, type FetchLike, type SubmitOptions, type SubmitResult } from "./submit.js";
import { decodeServerFrame, pingFrame, pongFrame, subscribeFrame, unsubscribeFrame, type WireServerFrame } from "./wire.js";

/** The part of the WHATWG `WebSocket` the client uses (browsers, Node 22+, or the `ws` package). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A `WebSocket` constructor. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Connection status of the client. */
export type ConnectionStatus = "connecting" | "open" | "reconnecting" | "closed";

/** Options of {@link createSessionstreamClient}. */
export interface SessionstreamClientOptions {
  /** The websocket URL, e.g. `ws://localhost:3000/ws` (relative URLs need a browser page to resolve against). */
  readonly url: string;
  /** The ingress base URL. Default: the websocket URL's origin (http/https) plus `/api`. */
  readonly httpUrl?: string;
  /** Default: `globalThis.WebSocket`. In Node 20 pass `WebSocket` from the `ws` package. */
  readonly WebSocket?: WebSocketConstructor;
  /** Default: `globalThis.fetch`. */
  readonly fetch?: FetchLike;
  /** Decodes `Any` payloads into typed messages. Default: none, payloads stay protobuf JSON objects. */
  readonly registry?: PayloadDecoder;
  /** Extra headers of ingress requests (e.g. authorization). */
  readonly headers?: Record<string, string>;
  /** Reconnect timing. Defaults: 250 ms doubling to 10 s, 20% jitter. */
  readonly reconnect?: BackoffOptions;
  /** Ask for delta snapshots on resubscribe (`resume=delta`). Default `true`. */
  readonly deltaSnapshots?: boolean;
  /** Client ping interval; a connection silent for two intervals is dropped and reopened. 0 disables. Default 20000 ms. */
  readonly pingIntervalMs?: number;
  /** Receives connection-level error frames and transport failures. */
  readonly onError?: (error: SessionstreamError) => void;
}

/**
 * A browser-safe client: one websocket carrying any number of session
 * subscriptions, reconnecting with backoff and resubscribing from the last
 * ordinal; commands go over the HTTP ingress with idempotency keys.
 */
export class SessionstreamClient {
  readonly #options: SessionstreamClientOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #views = new Map<string, SessionView>();
  readonly #statusListeners = new Set<(status: ConnectionStatus) => void>();
  readonly #host: { decoder: PayloadDecoder | undefined; unsubscribe: (view: SessionView) => void };
  #socket: WebSocketLike | undefined;
  #status: ConnectionStatus = "connecting";
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #lastFrameAt = 0;
  #ready = false;
  connectionId = "";

  constructor(options: SessionstreamClientOptions) {
    this.#options = options;
    const ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!ctor) throw new SessionstreamError("invalid_argument", "no WebSocket implementation: pass options.WebSocket (e.g. from the ws package)");
    this.#WebSocket = ctor;
    this.#host = { decoder: options.registry, unsubscribe: (view) => this.#unsubscribe(view) };
    this.#open();
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** Calls `listener` on every connection status change; returns the function that stops it. */
  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /** Subscribes to a session (or returns the open view of it). Survives reconnects. */
  subscribe(sessionId: string, options?: SubscribeOptions): SessionView {
    const existing = this.#views.get(sessionId);
    if (existing && existing.status !== "closed") return existing;
    const view = new SessionView(sessionId, this.#host, options);
    this.#views.set(sessionId, view);
    if (this.#ready) this.#sendSubscribe(view);
    return view;
  }

  /**
   * Submits a command over the HTTP ingress with an idempotency key that is
   * the same for every retry of this call (network errors, 408/429/5xx).
   */
  submit(sessionId: string, name: string, payload: unknown, options: SubmitOptions = {}): Promise<SubmitResult> {
    const fetchImpl = this.#options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
    if (!fetchImpl) return Promise.reject(new SessionstreamError("invalid_argument", "no fetch implementation: pass options.fetch"));
    return submitCommand(fetchImpl, this.#httpUrl(), sessionId, name, payload, {
      ...options,
      ...(this.#options.headers ? { headers: this.#options.headers } : {}),
      ...(this.#options.reconnect ? { backoff: this.#options.reconnect } : {}),
    });
  }

  /** Closes the socket for good; views keep their last state with status `closed`. */
  close(): void {
    this.#setStatus("closed");
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#pingTimer);
    for (const view of this.#views.values()) view.setStatus("closed");
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close(1000, "client closed");
  }

  /** Drops the current connection as if the network failed (for tests and "reconnect now" buttons); it reconnects. */
  reconnect(): void {
    this.#socket?.close(4000, "reconnect");
  }

  #open(): void {
    if (this.#status === "closed") return;
    const url = new URL(this.#options.url, (globalThis as { location?: { href: string } }).location?.href);
    if (this.#options.deltaSnapshots !== false) url.searchParams.set("resume", "delta");
    const socket = new this.#WebSocket(url.toString());
    this.#socket = socket;
    this.#ready = false;
    socket.onmessage = (event) => this.#onMessage(socket, event.data);
    socket.onclose = (event) => this.#onClose(socket, event.code);
    socket.onerror = () => {
      // onclose follows and schedules the reconnect.
    };
  }

  #onMessage(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.#socket) return;
    this.#lastFrameAt = Date.now();
    let frame: WireServerFrame;
    try {
      frame = decodeServerFrame(typeof data === "string" ? data : String(data));
    } catch (err) {
      this.#report(new SessionstreamError("protocol_error", `unreadable server frame: ${(err as Error).message}`));
      return;
    }
    try {
      this.#dispatch(socket, frame);
    } catch (err) {
      // A payload that does not decode or a reducer that throws: reported, and the view it concerns
      // goes to status `error` instead of waiting forever in `hydrating`. Nothing escapes to the socket.
      const sessionId = "sessionId" in frame ? frame.sessionId : "";
      const cause = err instanceof Error ? err.message : String(err);
      const error = new SessionstreamError(
        err instanceof SessionstreamError ? err.code : "internal",
        `cannot handle the ${frame.type} frame${sessionId ? ` of session "${sessionId}"` : ""}: ${cause}` +
          (frame.type === "snapshot" || frame.type === "uiEvent" ? " (check the payload decoder and the reducer)" : ""),
        { cause: err },
      );
      this.#report(error);
      const view = sessionId ? this.#views.get(sessionId) : undefined;
      if (view && view.status !== "closed") view.fail({ code: error.code, message: error.message });
    }
  }

  #dispatch(socket: WebSocketLike, frame: WireServerFrame): void {
    switch (frame.type) {
      case "hello":
        this.connectionId = frame.connectionId;
        this.#ready = true;
        this.#attempt = 0;
        this.#setStatus("open");
        this.#startPing(socket);
        for (const view of this.#views.values()) if (view.status !== "closed") this.#sendSubscribe(view);
        return;
      case "ping":
        socket.send(pongFrame(frame.nonce));
        return;
      case "pong":
      case "unsubscribed":
        return;
      case "error":
        if (!frame.sessionId) return this.#report(new SessionstreamError(frame.code as never, frame.message));
        return this.#sessionError(frame);
      default: {
        const view = this.#views.get(frame.sessionId);
        if (view && view.status !== "closed") view.applyFrame(frame);
      }
    }
  }

  #sessionError(frame: Extract<WireServerFrame, { type: "error" }>): void {
    const view = this.#views.get(frame.sessionId);
    if (!view || view.status === "closed") return;
    if (frame.code === "hydration_buffer_overflow" || frame.code === "snapshot_failed") {
      // The subscription was dropped; try again shortly from where the view is.
      view.setStatus("connecting");
      const socket = this.#socket;
      setTimeout(() => {
        if (socket === this.#socket && this.#ready && view.status === "connecting") this.#sendSubscribe(view);
      }, backoffDelay(0, this.#options.reconnect));
      return;
    }
    view.applyFrame(frame);
  }

  #onClose(socket: WebSocketLike, code: number): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.#ready = false;
    clearInterval(this.#pingTimer);
    if (this.#status === "closed") return;
    if (code === 1008) this.#report(new SessionstreamError("forbidden", "the server refused the connection (1008)"));
    for (const view of this.#views.values()) view.setStatus("connecting");
    this.#setStatus("reconnecting");
    const delay = backoffDelay(this.#attempt++, this.#options.reconnect);
    this.#reconnectTimer = setTimeout(() => this.#open(), delay);
  }

  #sendSubscribe(view: SessionView): void {
    view.setStatus("hydrating");
    const since = this.#options.deltaSnapshots === false ? 0n : view.resumeOrdinal();
    this.#socket?.send(subscribeFrame(view.sessionId, since, view.resumeEpoch()));
  }

  #unsubscribe(view: SessionView): void {
    if (this.#views.get(view.sessionId) === view) this.#views.delete(view.sessionId);
    if (this.#ready) this.#socket?.send(unsubscribeFrame(view.sessionId));
  }

  #startPing(socket: WebSocketLike): void {
    const interval = this.#options.pingIntervalMs ?? 20_000;
    clearInterval(this.#pingTimer);
    if (interval <= 0) return;
    this.#lastFrameAt = Date.now();
    let n = 0;
    this.#pingTimer = setInterval(() => {
      if (socket !== this.#socket) return;
      if (Date.now() - this.#lastFrameAt > 2 * interval) {
        socket.close(4001, "server silent");
        return;
      }
      socket.send(pingFrame(`p${++n}`));
    }, interval);
  }

  #httpUrl(): string {
    if (this.#options.httpUrl) return this.#options.httpUrl.replace(/\/+$/, "");
    const url = new URL(this.#options.url, (globalThis as { location?: { href: string } }).location?.href);
    return `${url.protocol === "wss:" ? "https:" : "http:"}//${url.host}/api`;
  }

  #setStatus(status: ConnectionStatus): void {
    if (this.#status === status || this.#status === "closed") return;
    this.#status = status;
    for (const listener of this.#statusListeners) {
      try {
        listener(status);
      } catch {
        // A listener's bug must not break the connection.
      }
    }
  }

  #report(error: SessionstreamError): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // ignore
    }
  }
}

/** Creates a {@link SessionstreamClient}. */
export function createSessionstreamClient(options: SessionstreamClientOptions): SessionstreamClient {
  return new SessionstreamClient(options);
}
