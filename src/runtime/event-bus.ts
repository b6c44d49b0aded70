import type { Message } from "@bufbuild/protobuf";
import { SessionstreamError } from "./errors.js";

/** An event accepted by a publisher but not yet ordered: ordinals are assigned at consumption. */
export interface PendingEvent {
  /** The partition key: all events of one session are consumed in order by one consumer. */
  readonly sessionId: string;
  readonly name: string;
  readonly payload: Message;
}

/** Applies a pending event (assigns its ordinal, projects, stores, fans out) and returns the ordinal. */
export type EventConsumer = (event: PendingEvent) => Promise<bigint>;

/**
 * Carries events from publishers to the consumer that orders and applies
 * them. The in-process bus calls the consumer directly; a distributed bus
 * (Redis Streams) would append to a stream partitioned by session id and
 * resolve `publish` when the consumer acknowledges with the ordinal.
 */
export interface EventBus {
  /** Resolves with the ordinal once the event has been applied durably. */
  publish(event: PendingEvent): Promise<bigint>;
  /** Installs the single consumer. Returns a function that removes it. */
  consume(consumer: EventConsumer): () => void;
  close?(): Promise<void>;
}

/**
 * The default bus: hands each event straight to the consumer in this
 * process, in publish order. The consumer (the hub) orders events per
 * session itself, so no second queue is needed here.
 */
export class InProcessEventBus implements EventBus {
  #consumer: EventConsumer | undefined;

  consume(consumer: EventConsumer): () => void {
    if (this.#consumer) throw new SessionstreamError("invalid_argument", "this event bus already has a consumer");
    this.#consumer = consumer;
    return () => {
      if (this.#consumer === consumer) this.#consumer = undefined;
    };
  }

  publish(event: PendingEvent): Promise<bigint> {
    const consumer = this.#consumer;
    if (!consumer) return Promise.reject(new SessionstreamError("closed", "no consumer is attached to the event bus"));
    return consumer(event);
  }
}
