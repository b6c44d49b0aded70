// A client as a page runs it (a `SessionView` of "sessionstream/client" with
// the page's reducer), fed the exact frames the websocket server writes:
// snapshots and UI events encoded to protobuf JSON text and decoded again.
import type { Registry } from "@bufbuild/protobuf";
import type { UIEvent } from "../runtime/handlers.js";
import type { Snapshot } from "../runtime/timeline.js";
import { encodeUIEvent, snapshotJson } from "../transport/frame-codec.js";
import type { ResumeOutcome } from "../transport/resume.js";
import { decodeServerFrame, type WireServerFrame } from "../transport/client/wire.js";
import { SessionView, type PayloadDecoder, type UIReducer } from "../transport/client/session-view.js";

/** The `uiEvent` frames of one backend event, written as the server writes them and decoded as the client decodes them. */
export function uiEventFrames(registry: Registry, sessionId: string, ordinal: bigint, events: readonly UIEvent[]): WireServerFrame[] {
  return events.map((e) => decodeServerFrame(encodeUIEvent(sessionId, ordinal, e.name, e.payload, registry).data.toString("utf8")));
}

/** The `snapshot` frame of a (full or delta) snapshot, as a client that opted into typed resume receives it. */
export function snapshotFrameOf(registry: Registry, snapshot: Snapshot, changedAfter: bigint, resume: ResumeOutcome, epoch: bigint): WireServerFrame {
  return decodeServerFrame('{"snapshot":' + snapshotJson(snapshot, changedAfter, registry, { epoch, resume }) + "}");
}

/** A simulated page: one `SessionView`, frames in, state out. */
export class SimulatedClient {
  readonly view: SessionView;

  constructor(sessionId: string, reduce: UIReducer | undefined, decoder: PayloadDecoder | undefined) {
    this.view = new SessionView(sessionId, { decoder, unsubscribe: () => {} }, reduce ? { reduce } : {});
  }

  /** Applies a snapshot frame, then `subscribed`. */
  snapshot(frame: WireServerFrame): void {
    this.#apply(frame);
    if (frame.type === "snapshot") this.view.applyFrame({ type: "subscribed", sessionId: this.view.sessionId, sinceSnapshotOrdinal: frame.changedAfterOrdinal });
  }

  /** Applies the first `count` frames of one backend event (a connection can drop between frames). */
  uiEvents(frames: readonly WireServerFrame[], count = frames.length): void {
    for (let i = 0; i < count; i++) this.#apply(frames[i]!);
  }

  #apply(frame: WireServerFrame): void {
    this.view.applyFrame(frame);
    if (this.view.status === "error") {
      const error = this.view.getSnapshot().error;
      throw new Error(`the client could not apply a frame: ${error?.code ?? ""} ${error?.message ?? ""}`.trim());
    }
  }
}
