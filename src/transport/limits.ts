import { SessionstreamError } from "../runtime/errors.js";

/**
 * Limits of the websocket server. Every limit is checked before anything is
 * buffered, so one connection can never grow server memory without bound.
 */
export interface TransportLimits {
  /** Largest client frame accepted, in bytes; a bigger one closes the socket with 1009. Default 1 MiB. */
  readonly maxFrameBytes: number;
  /** Sessions one connection may subscribe to at once (`too_many_subscriptions` beyond). Default 64. */
  readonly maxSubscriptionsPerConnection: number;
  /**
   * Entries buffered per subscription while its snapshot loads: its UI
   * events, and one per event that has none (`hydration_buffer_overflow`
   * beyond). Default 1024.
   */
  readonly maxHydrationBufferEvents: number;
  /** Bytes of UI frames buffered per subscription while its snapshot loads. Default 8 MiB. */
  readonly maxHydrationBufferBytes: number;
  /** Bytes of live frames queued for one connection and not yet written to its socket before it counts as a slow consumer and is disconnected (1013); snapshot frames still queued do not count (see `maxSnapshotBytes`). Default 4 MiB. */
  readonly maxQueuedBytesPerConnection: number;
  /**
   * Largest snapshot frame sent, in bytes. A bigger one is refused with an
   * `error` frame `snapshot_too_large` for its session (the subscription is
   * dropped, the connection stays). Snapshot frames are admitted outside
   * `maxQueuedBytesPerConnection`, so a session whose snapshot is larger than
   * the live queue can still hydrate; the snapshot bytes still queued on one
   * connection are bounded by this limit instead (beyond it the connection is
   * a slow consumer, 1013). Default 64 MiB.
   */
  readonly maxSnapshotBytes: number;
  /** Above this many queued bytes the server stops reading the connection until its queue drains. Default: a quarter of `maxQueuedBytesPerConnection`. */
  readonly readPauseBytes: number;
  /** Interval of websocket-level pings; a peer that has not answered by the next tick is terminated. 0 disables. Default 30000 ms. */
  readonly heartbeatIntervalMs: number;
  /** Open connections accepted; beyond, upgrades are refused with HTTP 503. Default 10000. */
  readonly maxConnections: number;
  /** How long a socket closed for a violation may take to flush its last frames before it is destroyed. Default 2000 ms. */
  readonly closeGraceMs: number;
}

/** The defaults of {@link TransportLimits}. */
export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = Object.freeze({
  maxFrameBytes: 1024 * 1024,
  maxSubscriptionsPerConnection: 64,
  maxHydrationBufferEvents: 1024,
  maxHydrationBufferBytes: 8 * 1024 * 1024,
  maxQueuedBytesPerConnection: 4 * 1024 * 1024,
  maxSnapshotBytes: 64 * 1024 * 1024,
  readPauseBytes: 1024 * 1024,
  heartbeatIntervalMs: 30_000,
  maxConnections: 10_000,
  closeGraceMs: 2_000,
});

/** Fills defaults and rejects nonsense (a limit must be a positive integer; the heartbeat may be 0). */
export function resolveLimits(partial: Partial<TransportLimits> = {}): TransportLimits {
  const maxQueued = partial.maxQueuedBytesPerConnection ?? DEFAULT_TRANSPORT_LIMITS.maxQueuedBytesPerConnection;
  const limits: TransportLimits = {
    ...DEFAULT_TRANSPORT_LIMITS,
    readPauseBytes: Math.max(1, Math.floor(maxQueued / 4)),
    ...stripUndefined(partial),
  };
  for (const [key, value] of Object.entries(limits)) {
    const min = key === "heartbeatIntervalMs" || key === "closeGraceMs" ? 0 : 1;
    if (!Number.isInteger(value) || value < min) {
      throw new SessionstreamError("invalid_argument", `transport limit ${key} must be an integer >= ${min}, got ${String(value)}`);
    }
  }
  return limits;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Websocket close codes the server uses (RFC 6455 section 7.4 and the IANA registry). */
export const CloseCode = Object.freeze({
  /** Server shutting down. */
  goingAway: 1001,
  /** `authorize` refused the connection. */
  policyViolation: 1008,
  /** A client frame exceeded `maxFrameBytes`. */
  messageTooBig: 1009,
  /** Slow consumer: the outbound queue exceeded `maxQueuedBytesPerConnection`. */
  tryAgainLater: 1013,
});
