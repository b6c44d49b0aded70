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
 * Snapshot frames are accounted apart (bounded by `maxSnapshotBytes`): the
 * queue is FIFO, so the bytes of a snapshot still queued are known from the
 * bytes written so far and the bytes still buffered.
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
  /** Wire bytes (frame headers included) handed to `ws` by {@link write}, since the connection opened. */
  #written = 0;
  /** Snapshot frames possibly still queued: where each ends in the written byte stream, and its size. */
  #snapshots: Array<{ readonly end: number; readonly bytes: number }> | undefined;
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

  /** Bytes of snapshot frames queued for this connection and not yet written to its socket. */
  get queuedSnapshotBytes(): number {
    const snapshots = this.#snapshots;
    if (snapshots === undefined) return 0;
    // Everything before `drained` in the written stream has left the queue.
    const drained = this.#written - this.ws.bufferedAmount;
    while (snapshots.length > 0 && snapshots[0]!.end <= drained) snapshots.shift();
    if (snapshots.length === 0) {
      this.#snapshots = undefined;
      return 0;
    }
    let bytes = 0;
    for (const s of snapshots) bytes += Math.min(s.bytes, s.end - drained);
    return bytes;
  }

  /** Bytes of live (non-snapshot) frames queued: what `maxQueuedBytesPerConnection` bounds. */
  get queuedLiveBytes(): number {
    const queued = this.ws.bufferedAmount;
    return this.#snapshots === undefined ? queued : Math.max(0, queued - this.queuedSnapshotBytes);
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
    return this.queuedLiveBytes + frame.bytes <= this.#limits.maxQueuedBytesPerConnection;
  }

  /**
   * Whether the snapshot `frame` may be queued: the live queue is within its
   * limit and the snapshot bytes queued, this one included, stay within
   * `maxSnapshotBytes`. The caller treats `false` as a slow consumer.
   */
  fitsSnapshot(frame: EncodedFrame): boolean {
    return (
      this.queuedLiveBytes <= this.#limits.maxQueuedBytesPerConnection &&
      this.queuedSnapshotBytes + frame.bytes <= this.#limits.maxSnapshotBytes
    );
  }

  /** Queues a text frame (no limit check: see {@link fits}). */
  write(frame: EncodedFrame): void {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return;
    this.#written += wireBytes(frame.bytes);
    this.ws.send(frame.data, { binary: false }, this.#onSent);
    if (!this.#paused && this.ws.bufferedAmount > this.#limits.readPauseBytes) {
      // Backpressure towards the client: stop reading its frames until ours drain.
      this.#paused = true;
      this.ws.pause();
    }
  }

  /** Queues a snapshot frame, accounted apart from live frames (no limit check: see {@link fitsSnapshot}). */
  writeSnapshot(frame: EncodedFrame): void {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return;
    this.write(frame);
    (this.#snapshots ??= []).push({ end: this.#written, bytes: wireBytes(frame.bytes) });
  }

  #afterWrite(): void {
    if (this.#paused && this.ws.bufferedAmount <= this.#limits.readPauseBytes / 2) {
      this.#paused = false;
      if (!this.closing) this.ws.resume();
    }
  }
}

/** Bytes of an unmasked, uncompressed server text frame of `payload` bytes on the wire (RFC 6455 section 5.2), as `bufferedAmount` counts them. */
function wireBytes(payload: number): number {
  return payload + (payload > 65_535 ? 10 : payload > 125 ? 4 : 2);
}
