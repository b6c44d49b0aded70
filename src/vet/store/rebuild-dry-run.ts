// `schema-vet --store … --rebuild-dry-run`: loads the app the way `dev`
// does, replays each stored session's events through its current timeline
// projection into an in-memory store, and reports the entities a real
// `rebuildTimeline` would change. The real store is only read.
import { equals, toJsonString, type DescMessage, type Message } from "@bufbuild/protobuf";
import { createAppHub, loadAppFactory } from "../../dev/app-loader.js";
import type { TimelineEntity } from "../../runtime/timeline.js";
import { MemoryHydrationStore } from "../../store/memory/memory-store.js";
import type { Finding } from "../diagnostic.js";
import type { StoreReader, StoredRow } from "./store-reader.js";

/** Entity changes named per session finding. */
const FIRST_CHANGES = 5;

/** Options of {@link rebuildDryRun}. */
export interface RebuildDryRunOptions {
  /** The app module (absolute), as `dev --app`. */
  readonly appPath: string;
  readonly cwd: string;
  /** Only these sessions. Default: every session in the store. */
  readonly sessions?: readonly string[];
  readonly onProgress?: (line: string) => void;
}

/** Findings and counts of a dry run. */
export interface RebuildDryRunResult {
  readonly findings: Finding[];
  readonly sessions: number;
  readonly changedSessions: number;
  readonly changedEntities: number;
}

/** Replays every (or the chosen) session into memory and compares the rebuilt timelines with the stored ones. */
export async function rebuildDryRun(reader: StoreReader, options: RebuildDryRunOptions): Promise<RebuildDryRunResult> {
  options.onProgress?.(`schema-vet: loading the app ${options.appPath} for the rebuild dry run`);
  const factory = await loadAppFactory(options.appPath, options.cwd);
  const sessions = options.sessions ?? (await reader.sessions());
  const findings: Finding[] = [];
  let changedSessions = 0;
  let changedEntities = 0;
  for (const [i, sessionId] of sessions.entries()) {
    if (sessions.length > 1 && (i + 1) % 50 === 0) options.onProgress?.(`schema-vet: rebuilt ${i + 1} of ${sessions.length} sessions`);
    // A fresh app per session: projections may keep state, and nothing may leak between sessions.
    const memory = new MemoryHydrationStore();
    const hub = await createAppHub(factory, { store: memory, onError: () => {} }, options.appPath);
    try {
      const events = await reader.sessionEvents(sessionId);
      let replayable = true;
      for (const row of events) {
        let payload: Message;
        try {
          payload = hub.registry.decodeBinary(row.typeName, row.payload);
        } catch (err) {
          findings.push({
            ruleId: "rebuild-failed",
            file: reader.location,
            message: `session "${sessionId}" cannot be replayed: event ordinal ${row.ordinal} ("${row.name}", ${row.typeName}) does not decode with the app's registry: ${(err as Error).message}. Fix the findings on its rows first`,
          });
          replayable = false;
          break;
        }
        await memory.apply({ sessionId, ordinal: row.ordinal, event: { sessionId, ordinal: row.ordinal, name: row.name, payload, appliedAt: 0 }, entities: [] });
      }
      if (!replayable) continue;
      let rebuilt: readonly TimelineEntity[];
      try {
        rebuilt = (await hub.rebuildTimeline(sessionId)).entities;
      } catch (err) {
        findings.push({
          ruleId: "rebuild-failed",
          file: reader.location,
          message: `session "${sessionId}": the current timeline projection fails on its stored events: ${(err as Error).message}. A real rebuildTimeline would fail the same way`,
        });
        continue;
      }
      const stored = (await reader.sessionEntities(sessionId)).filter((r) => !r.tombstone);
      const changes = compare(
        stored,
        rebuilt,
        (row) => hub.registry.decodeBinary(row.typeName, row.payload),
        (typeName) => hub.registry.typeRegistry.getMessage(typeName),
      );
      if (changes.length > 0) {
        changedSessions++;
        changedEntities += changes.length;
        const shown = changes.slice(0, FIRST_CHANGES).join("; ");
        findings.push({
          ruleId: "rebuild-would-change",
          file: reader.location,
          message:
            `session "${sessionId}": rebuilding the timeline through the current projections would change ${changes.length} entit${changes.length === 1 ? "y" : "ies"}: ${shown}` +
            `${changes.length > FIRST_CHANGES ? `; and ${changes.length - FIRST_CHANGES} more` : ""}. If that is intended, run rebuildTimeline after deploying; otherwise fix the projection`,
        });
      }
    } finally {
      await hub.close().catch(() => {});
    }
  }
  return { findings, sessions: sessions.length, changedSessions, changedEntities };
}

function compare(
  stored: readonly StoredRow[],
  rebuilt: readonly TimelineEntity[],
  decode: (row: StoredRow) => Message,
  descFor: (typeName: string) => DescMessage | undefined,
): string[] {
  const changes: string[] = [];
  const key = (kind: string, id: string) => `${kind}\u0000${id}`;
  const now = new Map(rebuilt.filter((e) => !e.tombstone).map((e) => [key(e.kind, e.id), e]));
  for (const row of stored) {
    const name = `${row.name} "${row.id}"`;
    const next = now.get(key(row.name, row.id ?? ""));
    now.delete(key(row.name, row.id ?? ""));
    if (!next) {
      changes.push(`${name} would be removed`);
      continue;
    }
    let before: Message;
    try {
      before = decode(row);
    } catch {
      changes.push(`${name} would be rewritten (the stored payload does not decode)`);
      continue;
    }
    const what: string[] = [];
    if (before.$typeName !== next.payload.$typeName) what.push(`type ${before.$typeName} -> ${next.payload.$typeName}`);
    else {
      const desc = descFor(before.$typeName);
      if (desc && !equals(desc, before, next.payload)) what.push(`payload ${json(desc, before)} -> ${json(desc, next.payload)}`);
    }
    if (row.createdOrdinal !== next.createdOrdinal) what.push(`createdOrdinal ${row.createdOrdinal} -> ${next.createdOrdinal}`);
    if (row.ordinal !== next.lastEventOrdinal) what.push(`lastEventOrdinal ${row.ordinal} -> ${next.lastEventOrdinal}`);
    if (what.length) changes.push(`${name} ${what.join(", ")}`);
  }
  for (const e of now.values()) changes.push(`${e.kind} "${e.id}" would be added`);
  return changes;
}

function json(desc: DescMessage, message: Message): string {
  try {
    const text = toJsonString(desc, message);
    return text.length > 160 ? `${text.slice(0, 157)}...` : text;
  } catch {
    return message.$typeName;
  }
}
