// Typed resume with epochs (DESIGN section 9): how a subscription (or an
// HTTP snapshot request) that names a resume point is satisfied. Shared by
// the websocket server and the HTTP snapshot endpoint so both decide alike.
import { ResumeKind } from "../gen/sessionstream/v1/transport_pb.js";
import type { Snapshot } from "../runtime/timeline.js";
import type { TransportHub } from "./transport-hub.js";

/**
 * How a subscription was satisfied:
 * - `recovered`: a delta, only entities changed after the client's ordinal
 *   (tombstones included); the client keeps the rest.
 * - `snapshot`: a full snapshot, because none was resumed from (ordinal 0) or
 *   the client is ahead of the server (store wiped, another deployment).
 * - `reset`: a full snapshot because the timeline epoch changed (the timeline
 *   was rebuilt since the client's state): the client drops its state,
 *   derived values included, and applies the snapshot.
 */
export type ResumeOutcome = "recovered" | "snapshot" | "reset";

/** A snapshot chosen for a resume point. */
export interface ResumedSnapshot {
  readonly snapshot: Snapshot;
  /** The delta's base ordinal (`changed_after_ordinal`); 0n for a full snapshot. */
  readonly changedAfter: bigint;
  readonly resume: ResumeOutcome;
  /** The timeline epoch of `snapshot`; 0n when the store does not track epochs. */
  readonly epoch: bigint;
}

/**
 * Loads the snapshot that answers a resume from `since` in timeline epoch
 * `knownEpoch` (0n: unknown, taken as the first epoch, 1n). A delta is sent
 * only when the client's epoch is the session's: after a rebuild the
 * entities keep their ordinals, so a delta would miss every entity the new
 * projection changed and the client would keep stale ones forever.
 * `since` 0n asks for a full snapshot.
 */
export async function resumeSnapshot(hub: Pick<TransportHub, "snapshot">, sessionId: string, since: bigint, knownEpoch: bigint): Promise<ResumedSnapshot> {
  if (since === 0n) return full(await hub.snapshot(sessionId), "snapshot");
  const delta = await hub.snapshot(sessionId, { changedAfter: since });
  // Read in the same store transaction as the delta: the delta belongs to this epoch.
  if (delta.epoch !== undefined && delta.epoch !== (knownEpoch === 0n ? 1n : knownEpoch)) return full(await hub.snapshot(sessionId), "reset");
  if (since > delta.snapshotOrdinal) return full(await hub.snapshot(sessionId), "snapshot");
  return { snapshot: delta, changedAfter: since, resume: "recovered", epoch: delta.epoch ?? 0n };
}

function full(snapshot: Snapshot, resume: ResumeOutcome): ResumedSnapshot {
  return { snapshot, changedAfter: 0n, resume, epoch: snapshot.epoch ?? 0n };
}

/** The wire enum of an outcome. */
export function resumeKind(outcome: ResumeOutcome): ResumeKind {
  return outcome === "recovered" ? ResumeKind.RECOVERED : outcome === "reset" ? ResumeKind.RESET : ResumeKind.SNAPSHOT;
}
