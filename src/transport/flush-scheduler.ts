import type { EncodedFrame } from "./frame-codec.js";
import { textFrameOf } from "./wire-frame.js";

/** Most bytes a connection holds back within a tick before it writes them. */
export const MAX_FLUSH_BYTES = 64 * 1024;

/** What holds writes until the end of the tick: a `Connection`. */
export interface TickFlushable {
  /** Called once per {@link FlushScheduler.schedule}, at the end of the tick. */
  flushTick(): void;
}

/**
 * Coalesces the frames written to many connections in one tick. A connection
 * that queues its first frame of the tick registers here; once the tick's
 * work is done (`process.nextTick`: after the microtasks of the current
 * task, before any I/O) each one writes everything it queued in one socket
 * write. A broadcast of N events to M sockets thus costs M writes per tick,
 * not N x M, and the frames of one tick usually leave in one TCP segment.
 * One scheduler per server.
 */
export class FlushScheduler {
  /**
   * Bytes a connection holds back within a tick before it writes them: a
   * quarter of `maxQueuedBytesPerConnection`, at most {@link MAX_FLUSH_BYTES}.
   */
  readonly flushBytes: number;
  #due: TickFlushable[] = [];
  #scheduled = false;
  /** The frames of the last {@link join} and their joined bytes: sockets fed the same frames in a tick share one buffer. */
  #joinedFrames: readonly EncodedFrame[] | undefined;
  #joined: Buffer | undefined;
  readonly #run = (): void => {
    this.#scheduled = false;
    const due = this.#due;
    this.#due = [];
    for (const target of due) target.flushTick();
    this.#joinedFrames = undefined;
    this.#joined = undefined;
  };

  constructor(maxQueuedBytesPerConnection: number) {
    this.flushBytes = Math.min(MAX_FLUSH_BYTES, Math.max(1, Math.floor(maxQueuedBytesPerConnection / 4)));
  }

  /** Calls `target.flushTick()` at the end of the tick. */
  schedule(target: TickFlushable): void {
    this.#due.push(target);
    if (this.#scheduled) return;
    this.#scheduled = true;
    process.nextTick(this.#run);
  }

  /**
   * The websocket frames of `frames` (`bytes` on the wire in all) in one
   * buffer, each still its own websocket message. A broadcast queues the same
   * frame objects in the same order on every socket, so the buffer built for
   * the previous socket is reused when the frames are the same (compared by
   * identity); it is released at the end of the tick. Never mutated.
   */
  join(frames: readonly EncodedFrame[], bytes: number): Buffer {
    const last = this.#joinedFrames;
    if (last !== undefined && last.length === frames.length && this.#joined!.byteLength === bytes && sameFrames(last, frames)) return this.#joined!;
    const joined = Buffer.allocUnsafe(bytes);
    let offset = 0;
    for (const frame of frames) offset += wireOf(frame).copy(joined, offset);
    this.#joinedFrames = frames;
    this.#joined = joined;
    return joined;
  }
}

/** The frame's websocket bytes (built here for a frame that came without them). */
export function wireOf(frame: EncodedFrame): Buffer {
  return frame.wire ?? textFrameOf(frame.data);
}

function sameFrames(a: readonly EncodedFrame[], b: readonly EncodedFrame[]): boolean {
  // Last first: frames of consecutive broadcasts differ at the end soonest.
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}
