import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { EncodedFrame } from "./frame-codec.js";
import { MAX_FLUSH_BYTES, wireOf, type FlushScheduler, type TickFlushable } from "./flush-scheduler.js";
import type { TransportLimits } from "./limits.js";
import type { Subscription } from "./subscription.js";
import { wireBytes } from "./wire-frame.js";

/**
 * One websocket connection: its subscriptions and its outbound queue. The
 * queue is the frames written this tick and not yet flushed, plus the
 * socket's own buffer (`ws.bufferedAmount`: bytes handed to the socket and
 * not yet written to the kernel); it is checked before every send, so a
 * consumer that stops reading is cut off at `maxQueuedBytesPerConnection`.
 * Frames written in one tick leave in one socket write at its end (see
 * {@link FlushScheduler}), each still its own websocket message, as the
 * prebuilt websocket frame of its {@link EncodedFrame} (`wire`): the bytes a
 * broadcast built once, written without going through `ws`'s per-message
 * framing. A tick's frames are flushed early once they reach a quarter of
 * `maxQueuedBytesPerConnection` (at most 64 KiB), so a long synchronous burst
 * neither waits for the end of the tick nor counts as a slow consumer.
 * Frames are sent without a per-frame callback (which would cost an
 * allocation per write); backpressure listens to the socket's `drain` only
 * while reading is paused.
 * Snapshot frames are accounted apart (bounded by `maxSnapshotBytes`): the
 * queue is FIFO, so the bytes of a snapshot still queued are known from the
 * bytes written so far and the bytes still buffered.
 */
export class Connection implements TickFlushable {
  readonly id: string;
  readonly ws: WebSocket;
  /**
   * The upgrade request, kept only when an `authorize` hook will need it for
   * `subscribe` (about a kilobyte per connection otherwise held for nothing).
   */
  readonly request: IncomingMessage | undefined;
  /** The client opted in to delta snapshots (`resume=delta` on the URL). */
  readonly deltaSnapshots: boolean;
  readonly subscriptions = new Map<string, Subscription>();
  /** Subscribes waiting for `authorize`, by session; an `unsubscribe` meanwhile cancels them. Created on first use. */
  #pendingSubscribes: Map<string, object> | undefined;
  /** Set when a heartbeat ping is sent, cleared by any pong or message. */
  awaitingPong = false;
  /** Closing for a violation or shutdown: nothing more is sent. */
  closing = false;
  #paused = false;
  /** Wire bytes (frame headers included) queued by {@link write}, since the connection opened. */
  #written = 0;
  /**
   * Frames written since the last flush, in order; created by the first
   * (an idle connection holds none), a new array after each flush (the
   * scheduler may still hold the old one).
   */
  #pending: EncodedFrame[] | undefined;
  /** Wire bytes of {@link #pending}. */
  #pendingBytes = 0;
  /** Registered with the scheduler for this tick. */
  #scheduled = false;
  readonly #flusher: FlushScheduler;
  /**
   * No extension was negotiated, so the prebuilt frames are what `ws` would
   * send. The server never enables permessage-deflate; were it on, each
   * frame would go through `ws.send` to be compressed.
   */
  readonly #prebuilt: boolean;
  /** Snapshot frames possibly still queued: where each ends in the written byte stream, and its size. */
  #snapshots: Array<{ readonly end: number; readonly bytes: number }> | undefined;
  readonly #limits: TransportLimits;
  /** The upgraded TCP (or TLS) socket under `ws`. */
  readonly #socket: Duplex;
  /** Bound once per connection, attached to the socket's `drain` only while paused. */
  #onDrain: (() => void) | undefined;
  /** Callbacks of {@link whenDrained} waiting for the socket's next `drain` (one listener for all). */
  #drainWaiters: Array<() => void> | undefined;

  constructor(
    id: string,
    ws: WebSocket,
    socket: Duplex,
    request: IncomingMessage | undefined,
    limits: TransportLimits,
    deltaSnapshots: boolean,
    flusher: FlushScheduler,
  ) {
    this.id = id;
    this.ws = ws;
    this.#socket = socket;
    this.request = request;
    this.#limits = limits;
    this.deltaSnapshots = deltaSnapshots;
    this.#flusher = flusher;
    this.#prebuilt = ws.extensions === "";
  }

  /** Starts a subscribe that waits for `authorize`; returns its token (a later subscribe to the session supersedes it). */
  beginSubscribe(sessionId: string): object {
    const token = {};
    (this.#pendingSubscribes ??= new Map()).set(sessionId, token);
    return token;
  }

  /** Ends a pending subscribe: whether it is still the current one (neither superseded nor cancelled). */
  endSubscribe(sessionId: string, token: object): boolean {
    const pending = this.#pendingSubscribes;
    if (pending === undefined || pending.get(sessionId) !== token) return false;
    pending.delete(sessionId);
    if (pending.size === 0) this.#pendingSubscribes = undefined;
    return true;
  }

  /**
   * Sessions this connection holds or is waiting to hold: its subscriptions
   * plus the subscribes still waiting for `authorize` (what
   * `maxSubscriptionsPerConnection` bounds, so pipelined subscribes cannot
   * pass the limit while an asynchronous hook runs).
   */
  get subscriptionCount(): number {
    const pending = this.#pendingSubscribes;
    let count = this.subscriptions.size;
    if (pending !== undefined) for (const sessionId of pending.keys()) if (!this.subscriptions.has(sessionId)) count++;
    return count;
  }

  /** Whether `sessionId` is subscribed or waiting for `authorize` on this connection. */
  holds(sessionId: string): boolean {
    return this.subscriptions.has(sessionId) || this.#pendingSubscribes?.has(sessionId) === true;
  }

  /** Cancels a pending subscribe to `sessionId` (an `unsubscribe` arrived while it was authorized). */
  cancelSubscribe(sessionId: string): void {
    const pending = this.#pendingSubscribes;
    if (pending === undefined) return;
    pending.delete(sessionId);
    if (pending.size === 0) this.#pendingSubscribes = undefined;
  }

  /** Bytes queued for this connection and not yet written to the kernel: this tick's frames and the socket's buffer. */
  get queuedBytes(): number {
    return this.ws.bufferedAmount + this.#pendingBytes;
  }

  /** Bytes of snapshot frames queued for this connection and not yet written to its socket. */
  get queuedSnapshotBytes(): number {
    const snapshots = this.#snapshots;
    if (snapshots === undefined) return 0;
    // Everything before `drained` in the written stream has left the queue.
    const drained = this.#written - this.queuedBytes;
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
    const queued = this.queuedBytes;
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

  /** Queues a text frame, sent at the end of the tick (no limit check: see {@link fits}). */
  write(frame: EncodedFrame): void {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return;
    const bytes = wireBytes(frame.bytes);
    this.#written += bytes;
    this.#pendingBytes += bytes;
    (this.#pending ??= []).push(frame);
    if (this.#pendingBytes >= this.#flusher.flushBytes) {
      this.flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      this.#flusher.schedule(this);
    }
  }

  /** @internal The scheduler's end of the tick. */
  flushTick(): void {
    this.#scheduled = false;
    this.flush();
  }

  /**
   * Writes the frames queued so far to the socket in one write. Called at
   * the end of the tick, early for a big burst, and before anything that must
   * follow them (the close frame of `ws.close`). Frames queued for a socket
   * that closed meanwhile are dropped, as `ws.send` drops them.
   */
  flush(): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    const bytes = this.#pendingBytes;
    this.#pending = undefined;
    this.#pendingBytes = 0;
    const ws = this.ws;
    if (ws.readyState !== ws.OPEN) return;
    if (this.#prebuilt) {
      const socket = this.#socket;
      if (pending.length === 1) {
        socket.write(wireOf(pending[0]!));
      } else if (bytes <= MAX_JOIN_BYTES) {
        socket.write(this.#flusher.join(pending, bytes));
      } else {
        // A big frame (a snapshot) among them: one writev of the frames as they are, not a copy.
        socket.cork();
        for (const frame of pending) socket.write(wireOf(frame));
        socket.uncork();
      }
    } else {
      for (const frame of pending) ws.send(frame.data, TEXT_FRAME);
    }
    if (!this.#paused && ws.bufferedAmount > this.#limits.readPauseBytes) this.#pause();
  }

  /** Queues a snapshot frame, accounted apart from live frames (no limit check: see {@link fitsSnapshot}). */
  writeSnapshot(frame: EncodedFrame): void {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return;
    this.write(frame);
    (this.#snapshots ??= []).push({ end: this.#written, bytes: wireBytes(frame.bytes) });
  }

  /**
   * Backpressure towards the client: stops reading its frames until ours
   * drain. The socket emits `drain` once its buffer is empty after it
   * exceeded the socket's high-water mark, so the effective pause threshold
   * is at least that mark (16 KiB for a TCP socket): below it there is no
   * `drain` to wait for, and the socket takes more without blocking.
   */
  #pause(): void {
    if (!this.#socket.writableNeedDrain) return;
    this.#paused = true;
    this.ws.pause();
    this.#socket.once("drain", (this.#onDrain ??= this.#drained.bind(this)));
  }

  /**
   * Calls `listener` once the socket's write buffer has drained (at once, in
   * a microtask, when nothing waits to drain). Used to resync a subscription
   * that fell behind only when the client reads again. Never called once the
   * socket is gone.
   */
  whenDrained(listener: () => void): void {
    this.flush();
    if (!this.#socket.writableNeedDrain) {
      queueMicrotask(listener);
      return;
    }
    if (this.#drainWaiters === undefined) {
      this.#drainWaiters = [];
      this.#socket.once("drain", this.#runDrainWaiters.bind(this));
    }
    this.#drainWaiters.push(listener);
  }

  #runDrainWaiters(): void {
    const waiters = this.#drainWaiters ?? [];
    this.#drainWaiters = undefined;
    for (const listener of waiters) listener();
  }

  #drained(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.closing) this.ws.resume();
  }
}

/** Options of every `ws.send` (shared: `ws` copies them). */
const TEXT_FRAME = Object.freeze({ binary: false });

/** Most bytes of frames copied into one buffer for a write; beyond (a big frame among them) they are written as they are. */
const MAX_JOIN_BYTES = 2 * MAX_FLUSH_BYTES;
