import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import type { EncodedFrame } from "./frame-codec.js";
import type { TransportLimits } from "./limits.js";
import type { Subscription } from "./subscription.js";

/**
 * One websocket connection: its subscriptions and its outbound queue. The
 * queue is the socket's own (`ws.bufferedAmount`: bytes handed to `ws` and
 * not yet written to the kernel); it is checked before every send, so a
 * consumer that stops reading is cut off at `maxQueuedBytesPerConnection`.
 */
export class Connection {
  readonly id: string;
  readonly ws: WebSocket;
  readonly request: IncomingMessage;
  /** The client opted in to delta snapshots (`resume=delta` on the URL). */
  readonly deltaSnapshots: boolean;
  readonly subscriptions = new Map<string, Subscription>();
  /** Subscribes waiting for `authorize`, by session; an `unsubscribe` meanwhile cancels them. */
  readonly pendingSubscribes = new Map<string, object>();
  /** Set when a heartbeat ping is sent, cleared by any pong or message. */
  awaitingPong = false;
  /** Closing for a violation or shutdown: nothing more is sent. */
  closing = false;
  #paused = false;
  readonly #limits: TransportLimits;
  readonly #onSent: (err?: Error) => void;

  constructor(id: string, ws: WebSocket, request: IncomingMessage, limits: TransportLimits, deltaSnapshots: boolean) {
    this.id = id;
    this.ws = ws;
    this.request = request;
    this.#limits = limits;
    this.deltaSnapshots = deltaSnapshots;
    // One bound callback per connection, not a closure per frame.
    this.#onSent = this.#afterWrite.bind(this);
  }

  /** Bytes queued for this connection and not yet written to its socket. */
  get queuedBytes(): number {
    return this.ws.bufferedAmount;
  }

  /** Whether reading from this connection is paused because its outbound queue is full. */
  get readPaused(): boolean {
    return this.#paused;
  }

  /**
   * Whether `frame` fits in the outbound queue. The caller treats `false`
   * as a slow consumer; the check happens before anything is queued.
   */
  fits(frame: EncodedFrame): boolean {
    return this.ws.bufferedAmount + frame.bytes <= this.#limits.maxQueuedBytesPerConnection;
  }

  /** Queues a text frame (no limit check: see {@link fits}). */
  write(frame: EncodedFrame): void {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(frame.data, { binary: false }, this.#onSent);
    if (!this.#paused && this.ws.bufferedAmount > this.#limits.readPauseBytes) {
      // Backpressure towards the client: stop reading its frames until ours drain.
      this.#paused = true;
      this.ws.pause();
    }
  }

  #afterWrite(): void {
    if (this.#paused && this.ws.bufferedAmount <= this.#limits.readPauseBytes / 2) {
      this.#paused = false;
      if (!this.closing) this.ws.resume();
    }
  }
}
