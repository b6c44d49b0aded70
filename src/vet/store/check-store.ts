// `schema-vet --store`: every stored event name and entity kind is
// registered or retired, every stored type name resolves to a persisted
// message, and stored payloads (a sample, or all) decode with the current
// schema. Counts per name go to the report; findings name the first rows.
import type { DescMessage, FileRegistry } from "@bufbuild/protobuf";
import type { Finding } from "../diagnostic.js";
import type { AnnotatedMessage } from "../proto/annotations.js";
import type { StoredGroup, StoreReader, StoredRow } from "./store-reader.js";
import { checkPayload } from "./wire-check.js";

/** Rows checked per (name, type name) without `--all`. */
export const DEFAULT_SAMPLE = 200;
/** Failing rows named per finding. */
const FIRST_ROWS = 5;

/** Counts of one (name, type name) group. */
export interface StoreGroupReport {
  readonly family: "event" | "entity";
  readonly name: string;
  readonly typeName: string;
  readonly rows: number;
  readonly checked: number;
  readonly failed: number;
  /** `ok`, or why the group's rows cannot be read. */
  readonly status: "ok" | "retired" | "unknown-name" | "unresolved-type" | "undecodable";
}

/** What `--store` reports besides findings. */
export interface StoreReport {
  /** The SQLite file or PostgreSQL URL (password redacted). */
  readonly location: string;
  readonly sessions: number;
  readonly groups: readonly StoreGroupReport[];
  /** True when every row was checked (`--all`). */
  readonly all: boolean;
  /** With `--rebuild-dry-run`. */
  readonly rebuild?: { readonly sessions: number; readonly changedSessions: number; readonly changedEntities: number };
}

/** Options of {@link checkStore}. */
export interface CheckStoreOptions {
  /** Annotated messages of the current protos. */
  readonly messages: readonly AnnotatedMessage[];
  /** Every current message type (imports included). */
  readonly registry: FileRegistry;
  /** Check every row instead of a sample. Default false. */
  readonly all?: boolean;
  /** Rows per group without `all`. Default {@link DEFAULT_SAMPLE}. */
  readonly sample?: number;
  readonly onProgress?: (line: string) => void;
}

/** Runs the store checks. */
export async function checkStore(reader: StoreReader, options: CheckStoreOptions): Promise<{ findings: Finding[]; report: StoreReport }> {
  const findings: Finding[] = [];
  const events = new Map<string, { m: AnnotatedMessage; retired: boolean }>();
  const kinds = new Map<string, { m: AnnotatedMessage; retired: boolean }>();
  const persisted = new Map<string, DescMessage>();
  for (const m of options.messages) {
    if (m.event) {
      events.set(m.event.name, { m, retired: false });
      for (const r of m.event.retiredNames) if (!events.has(r)) events.set(r, { m, retired: true });
    }
    if (m.entity) {
      kinds.set(m.entity.kind, { m, retired: false });
      for (const r of m.entity.retiredKinds) if (!kinds.has(r)) kinds.set(r, { m, retired: true });
    }
    if (m.event || m.entity) persisted.set(m.desc.typeName, m.desc);
  }

  options.onProgress?.(`schema-vet: reading ${reader.location}`);
  const groups = await reader.groups();
  const sessions = await reader.sessions();
  const total = groups.reduce((n, g) => n + g.rows, 0);
  const limit = options.all ? undefined : (options.sample ?? DEFAULT_SAMPLE);
  const reports: StoreGroupReport[] = [];
  let done = 0;
  let lastProgress = Date.now();

  for (const group of groups) {
    const label = group.family === "event" ? `event "${group.name}"` : `timeline entity kind "${group.name}"`;
    const owner = (group.family === "event" ? events : kinds).get(group.name);
    const where = (rows: readonly StoredRow[]) => rows.map((r) => rowLabel(r)).join(", ");
    if (!owner) {
      const first = await firstRows(reader, group);
      findings.push({
        ruleId: "store-unknown-name",
        file: reader.location,
        message:
          `${plural(group.rows, "stored row")} of ${label} (${group.typeName}), which no current message registers or retires, first ${where(first)}: ` +
          `a rebuild or snapshot meets names nothing handles. Restore the name, or list it in ${group.family === "event" ? "retired_names" : "retired_kinds"} of the message that reads these rows`,
      });
      reports.push({ ...counts(group), checked: 0, failed: 0, status: "unknown-name" });
      done += group.rows;
      continue;
    }
    const desc = persisted.get(group.typeName) ?? undefined;
    if (!desc) {
      const first = await firstRows(reader, group);
      const exists = options.registry.getMessage(group.typeName) !== undefined;
      findings.push({
        ruleId: "store-unresolved-type",
        file: reader.location,
        message:
          `${plural(group.rows, "stored row")} of ${label} carry the type name ${group.typeName}, which ${exists ? "is no longer annotated as an event or timeline entity" : "no current proto defines"}, first ${where(first)}: ` +
          `the store cannot decode them. Keep (or restore) the message ${group.typeName} under that full name, annotated`,
      });
      reports.push({ ...counts(group), checked: 0, failed: 0, status: "unresolved-type" });
      done += group.rows;
      continue;
    }
    let checked = 0;
    const failures: Array<{ row: StoredRow; problem: string }> = [];
    const unknownFields = new Map<number, { rows: number; first: StoredRow }>();
    let failed = 0;
    for await (const row of reader.rows(group, limit)) {
      checked++;
      const result = checkPayload(desc, row.payload);
      if (result.problem) {
        failed++;
        if (failures.length < FIRST_ROWS) failures.push({ row, problem: result.problem });
      }
      for (const no of result.unknownFields) {
        const u = unknownFields.get(no);
        if (u) u.rows++;
        else unknownFields.set(no, { rows: 1, first: row });
      }
      if (++done % 5000 === 0 && Date.now() - lastProgress > 1000) {
        lastProgress = Date.now();
        options.onProgress?.(`schema-vet: checked ${done} of ${total} rows`);
      }
    }
    done += group.rows - checked;
    if (failed > 0) {
      findings.push({
        ruleId: "store-undecodable-payload",
        file: reader.location,
        message:
          `${failed} of ${checked} checked rows of ${label} (${group.typeName}${limit !== undefined && group.rows > checked ? `, a sample of ${group.rows}` : ""}) do not decode with the current schema: ` +
          failures.map((f) => `${rowLabel(f.row)}: ${f.problem}`).join("; ") +
          `. Revert the proto change that broke them (see \`schema-vet --against\`), or migrate the rows`,
      });
    }
    for (const [no, u] of unknownFields) {
      findings.push({
        ruleId: "store-unknown-field",
        file: reader.location,
        message: `${u.rows} checked rows of ${label} (${group.typeName}) hold field number ${no}, which the current schema neither defines nor reserves (first ${rowLabel(u.first)}): its data is dropped on read, and a new field with that number would misread it. Add \`reserved ${no};\` to ${group.typeName}`,
      });
    }
    reports.push({ ...counts(group), checked, failed, status: failed > 0 ? "undecodable" : owner.retired ? "retired" : "ok" });
  }
  return { findings, report: { location: reader.location, sessions: sessions.length, groups: reports, all: options.all === true } };
}

function counts(g: StoredGroup): Pick<StoreGroupReport, "family" | "name" | "typeName" | "rows"> {
  return { family: g.family, name: g.name, typeName: g.typeName, rows: g.rows };
}

async function firstRows(reader: StoreReader, group: StoredGroup): Promise<StoredRow[]> {
  const out: StoredRow[] = [];
  for await (const row of reader.rows(group, FIRST_ROWS)) out.push(row);
  return out;
}

/** `session "s1" ordinal 3` (events) or `session "s1" entity "m1"` (entities). */
export function rowLabel(row: StoredRow): string {
  return row.id !== undefined ? `session "${row.sessionId}" entity "${row.id}"` : `session "${row.sessionId}" ordinal ${row.ordinal}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
