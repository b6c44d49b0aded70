import type { DescMessage, JsonValue, Message, Registry } from "@bufbuild/protobuf";
import type { Family } from "../runtime/app-schema.js";
import type { UIFanout } from "../runtime/handlers.js";
import type { Snapshot, SnapshotOptions } from "../runtime/timeline.js";

/**
 * The part of a `Hub` the transport uses. Any `Hub<S>` satisfies it; keeping
 * it structural lets the transport take hubs of every app schema without casts
 * and lets tests pass a stand-in.
 */
export interface TransportHub {
  readonly registry: {
    readonly typeRegistry: Registry;
    lookup(family: Family, name: string): unknown;
    /** Throws `unknown_<family>` naming the registered names. */
    require(family: Family, name: string): DescMessage;
    fromJson(family: Family, name: string, json: JsonValue): Message;
  };
  attachFanout(fanout: UIFanout): () => void;
  snapshot(sessionId: string, options?: SnapshotOptions): Promise<Snapshot>;
  handledCommands(): string[];
  /** Typed per app in `Hub`; the ingress passes a message decoded with the registered schema. */
  submit(sessionId: string, name: never, payload: never): Promise<void>;
}
