import type { Message } from "@bufbuild/protobuf";
import { SessionstreamError } from "./errors.js";
import type { AppliedEvent } from "./handlers.js";
import type { SchemaRegistry } from "./registry.js";

/** An event accepted by a publisher but not yet ordered: ordinals are assigned at consumption. */
export interface PendingEvent {
  /** The partition key: all events of one session are consumed in order by one consumer. */
  readonly sessionId: string;
  readonly name: string;
  readonly payload: Message;
  /**
   * Idempotency key set by a bus that may deliver an event twice (after a
   * crash): the hub applies an event id at most once per session when the
   * store has the `EventIdStore` capability.
   */
  readonly eventId?: string;
}

/** What the hub did with an event a cluster bus handed it (see {@link ClusterHubLink.apply}). */
export interface ClusterApplyResult {
  /** The event with its ordinal, its UI events and its entity changes. */
  readonly applied: AppliedEvent;
  /**
   * True when the store already had this event id (a redelivery): nothing was
   * projected or written again, `applied` carries the stored ordinal and no
   * UI events or entities.
   */
  readonly duplicate: boolean;
}

/**
 * What a hub offers a {@link ClusterEventBus}: its registry (to encode and
 * decode payloads on the wire), the apply path with details (for the
 * "applied" notice other nodes read), and the path for events another
 * process applied (fanned out to this process's subscribers).
 */
export interface ClusterHubLink {
  readonly registry: SchemaRegistry<any>;
  /** Orders and applies an event like the plain consumer, resolving with what was applied. */
  apply(event: PendingEvent): Promise<ClusterApplyResult>;
  /**
   * An event another process applied: the hub drops its cached state of the
   * session if it is behind, then hands the UI events to its fanouts and the
   * event to its observers. Call it in ordinal order per session.
   */
  deliverRemote(applied: AppliedEvent): void;
  /**
   * Another process found event `ordinal` already applied when it was
   * redelivered (its applier died before its notice): this process never
   * saw its UI events, so its subscribers behind it resync.
   */
  missed(sessionId: string, ordinal: bigint): void;
  /** Another process asks to stop run `runId`: the hub ends it when it runs here, else ignores it. */
  stopLocalRun(runId: string): void;
}

/**
 * Capability of a bus that connects several processes (e.g. `sessionstream/bus/redis`).
 * The hub calls `attachHub` instead of `consume` when the bus has it.
 */
export interface ClusterEventBus extends EventBus {
  /** Installs the hub. Returns a function that removes it. */
  attachHub(link: ClusterHubLink): () => void;
  /**
   * Tells every process to stop run `runId` now (the one running it calls
   * its hub's `stopLocalRun`). Optional: without it a stop recorded in the
   * store reaches the run at its owner's next heartbeat.
   */
  signalRunStop?(runId: string): Promise<void>;
}

/** True when `bus` carries events between processes and wants the {@link ClusterHubLink}. */
export function isClusterEventBus(bus: EventBus): bus is ClusterEventBus {
  return typeof (bus as Partial<ClusterEventBus>).attachHub === "function";
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
