import type { EncodedFrame } from "./frame-codec.js";

/** A UI frame waiting in a hydration buffer, with the ordinal of its backend event. */
export interface BufferedFrame {
  readonly ordinal: bigint;
  readonly frame: EncodedFrame;
}

/**
 * One session subscription of one connection. It starts `hydrating`: UI
 * frames that arrive while its snapshot loads are buffered (bounded); once
 * the snapshot is sent, the buffered frames newer than the snapshot are
 * flushed and it turns `live`. `floor` is the snapshot ordinal: frames at or
 * below it are already reflected in the snapshot and are never sent, which
 * also covers an event whose store write the snapshot saw but whose fanout
 * arrives after the subscription went live.
 *
 * A live subscription that falls behind on a connection that resyncs slow
 * consumers turns `resyncing`: its UI frames are dropped (not queued) until
 * the connection's queue drains; then it hydrates again from a fresh snapshot
 * (a delta from `floor` in the same `epoch`) and turns `live`.
 */
export class Subscription {
  readonly sessionId: string;
  readonly since: bigint;
  state: "hydrating" | "live" | "resyncing" = "hydrating";
  floor = 0n;
  /** The timeline epoch of the last snapshot sent (0n before the first, or when the store does not track epochs). */
  epoch = 0n;
  /** Created by the first buffered frame: most subscriptions hydrate with nothing to buffer. */
  #buffer: BufferedFrame[] | undefined;
  #bufferBytes = 0;

  constructor(sessionId: string, since: bigint) {
    this.sessionId = sessionId;
    this.since = since;
  }

  get bufferedEvents(): number {
    return this.#buffer?.length ?? 0;
  }

  get bufferedBytes(): number {
    return this.#bufferBytes;
  }

  /** Buffers a frame; returns an error message instead when a limit would be exceeded (nothing is buffered then). */
  buffer(item: BufferedFrame, maxEvents: number, maxBytes: number): string | undefined {
    const buffered = this.bufferedEvents;
    if (buffered + 1 > maxEvents) {
      return `hydration buffer of session "${this.sessionId}" is full: ${buffered} UI events buffered while the snapshot loads (maxHydrationBufferEvents ${maxEvents})`;
    }
    if (this.#bufferBytes + item.frame.bytes > maxBytes) {
      return `hydration buffer of session "${this.sessionId}" is full: ${this.#bufferBytes + item.frame.bytes} bytes exceed maxHydrationBufferBytes ${maxBytes}`;
    }
    (this.#buffer ??= []).push(item);
    this.#bufferBytes += item.frame.bytes;
    return undefined;
  }

  /** Ends hydration: returns the buffered frames newer than the snapshot, in order, and empties the buffer. */
  drain(snapshotOrdinal: bigint): BufferedFrame[] {
    this.floor = snapshotOrdinal;
    const buffer = this.#buffer;
    if (buffer === undefined) return [];
    const out = buffer.filter((b) => b.ordinal > snapshotOrdinal);
    this.#buffer = undefined;
    this.#bufferBytes = 0;
    return out;
  }
}
