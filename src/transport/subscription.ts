import type { EncodedFrame } from "./frame-codec.js";

/**
 * A UI frame waiting in a hydration buffer, with the ordinal of its backend
 * event. Without `frame` it only records that the event was seen (it had no
 * UI events); with `missed` the hub saw the event applied but never had its
 * UI events (a redelivery another node applied).
 */
export interface BufferedFrame {
  readonly ordinal: bigint;
  readonly frame?: EncodedFrame;
  readonly missed?: boolean;
}

/** What a live subscription does with the next event of its session (see {@link Subscription.accept}). */
export type Admission = "send" | "stale" | "gap";

/**
 * One session subscription of one connection. It starts `hydrating`: UI
 * frames that arrive while its snapshot loads are buffered (bounded); once
 * the snapshot is sent, the buffered frames newer than the snapshot are
 * flushed and it turns `live`. `floor` is the snapshot ordinal: frames at or
 * below it are already reflected in the snapshot and are never sent, which
 * also covers an event whose store write the snapshot saw but whose fanout
 * arrives after the subscription went live.
 *
 * Ordinals are dense per session, so `last` (the newest ordinal the
 * subscription reflects) exposes a gap: events applied elsewhere whose UI
 * events never reached this process (a node that died between its commit
 * and its notice). A gap resyncs the subscription like a slow consumer.
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
  /** The newest ordinal this subscription reflects (its snapshot or a later event); only meaningful once live. */
  last = 0n;
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
      // Counts UI events and the markers of events without any (they keep the ordinals dense).
      return `hydration buffer of session "${this.sessionId}" is full: ${buffered} entries (UI events, and one per event without any) buffered while the snapshot loads (maxHydrationBufferEvents ${maxEvents})`;
    }
    const bytes = item.frame?.bytes ?? 0;
    if (this.#bufferBytes + bytes > maxBytes) {
      return `hydration buffer of session "${this.sessionId}" is full: ${this.#bufferBytes + bytes} bytes exceed maxHydrationBufferBytes ${maxBytes}`;
    }
    (this.#buffer ??= []).push(item);
    this.#bufferBytes += bytes;
    return undefined;
  }

  /**
   * Ends hydration: returns the buffered frames newer than the snapshot, in
   * order, and empties the buffer. `gap` is true when the events buffered
   * after the snapshot skip an ordinal or one was missed: the snapshot plus
   * the frames would not be the whole story.
   */
  drain(snapshotOrdinal: bigint): { frames: EncodedFrame[]; gap: boolean } {
    this.floor = snapshotOrdinal;
    this.last = snapshotOrdinal;
    const buffer = this.#buffer;
    if (buffer === undefined) return { frames: [], gap: false };
    this.#buffer = undefined;
    this.#bufferBytes = 0;
    const frames: EncodedFrame[] = [];
    let sending: bigint | undefined;
    for (const item of buffer) {
      if (item.missed === true) {
        if (item.ordinal > this.last) return { frames, gap: true };
        continue;
      }
      // The UI events of one backend event were buffered one by one.
      if (item.ordinal !== sending) {
        const admission = this.accept(item.ordinal);
        if (admission === "stale") continue;
        if (admission === "gap") return { frames, gap: true };
        sending = item.ordinal;
      }
      if (item.frame !== undefined) frames.push(item.frame);
    }
    return { frames, gap: false };
  }

  /**
   * Admits the next event of the session (by ordinal) to a live subscription:
   * `stale` when it is already reflected, `gap` when ordinals before it were
   * never seen, else `send`. Call it once per event, not per UI event.
   */
  accept(ordinal: bigint): Admission {
    if (ordinal <= this.last) return "stale";
    if (ordinal > this.last + 1n) {
      this.last = ordinal;
      return "gap";
    }
    this.last = ordinal;
    return "send";
  }
}
