// The role-keyed evolution rules of `schema-vet --against`: buf's wire
// findings weighed by what each message is (persisted or JSON), plus the
// names, type names and id fields that stored rows depend on.
import type { DescFile } from "@bufbuild/protobuf";
import type { Finding, SourceRange } from "../diagnostic.js";
import type { AnnotatedMessage } from "../proto/annotations.js";
import type { BufBreakingFinding } from "./buf-breaking.js";
import { rolesByType, typeAtLine, type RoleUse } from "./roles.js";

/** What {@link checkEvolution} compares. */
export interface EvolutionInput {
  /** The current protos' own files. */
  readonly currentFiles: readonly DescFile[];
  /** Disk path of a current file by proto path. */
  diskPath(protoPath: string): string;
  /** Annotated messages of every current file. */
  readonly current: readonly AnnotatedMessage[];
  /** Annotated messages of every baseline file (their `file` is the proto path). */
  readonly baseline: readonly AnnotatedMessage[];
  /** Every message type name the current protos define (imports included). */
  readonly currentTypeNames: ReadonlySet<string>;
  /** `buf breaking` findings of current against baseline. */
  readonly breaking: readonly BufBreakingFinding[];
  /** How the baseline is named in messages. */
  readonly baselineLabel: string;
}

/** Runs the evolution rules; findings point into the current protos. */
export function checkEvolution(input: EvolutionInput): Finding[] {
  const findings: Finding[] = [];
  wireFindings(input, findings);
  nameFindings(input, findings);
  return findings;
}

function wireFindings(input: EvolutionInput, findings: Finding[]): void {
  const roles = rolesByType(input.current);
  const filesByPath = new Map(input.currentFiles.map((f) => [f.proto.name, f]));
  const lookups = new Map<string, (line: number) => string | undefined>();
  // One finding per rule and line: buf may report one edit under several rules (a renamed
  // field breaks FIELD_SAME_NAME and FIELD_SAME_JSON_NAME); a place reported as a binary break
  // is not reported again as a JSON one.
  const groups = new Map<string, { ruleId: string; b: BufBreakingFinding; messages: string[]; rules: string[]; tail: string }>();
  const persistedAt = new Set<string>();
  // Binary findings first; then by place and rule, so merged messages read the same on every run.
  const ordered = [...input.breaking].sort(
    (x, y) => Number(y.binary) - Number(x.binary) || x.path.localeCompare(y.path) || x.line - y.line || x.column - y.column || x.bufRule.localeCompare(y.bufRule),
  );
  for (const b of ordered) {
    const file = filesByPath.get(b.path);
    if (!file) continue; // an import (descriptor.proto, options.proto): not the user's schema
    let lookup = lookups.get(b.path);
    if (!lookup) lookups.set(b.path, (lookup = typeAtLine(file)));
    const typeName = lookup(b.line);
    const uses = typeName ? (roles.get(typeName) ?? []) : [];
    const persisted = uses.filter((u) => u.persisted);
    const json = uses.filter((u) => u.json);
    const place = `${b.path}:${b.line}`;
    let ruleId: string;
    let tail: string;
    if (b.binary && persisted.length > 0) {
      persistedAt.add(place);
      ruleId = "persisted-wire-breaking";
      tail = `${usedBy(typeName ?? "", persisted)} is stored as protobuf binary: rows written before this change no longer decode as written`;
    } else if (json.length > 0 && !persistedAt.has(place)) {
      ruleId = "json-wire-breaking";
      tail = `${usedBy(typeName ?? "", json)} travels as protobuf JSON: open tabs and API clients built against the old schema misread it`;
    } else {
      continue;
    }
    const key = `${ruleId}\u0000${place}`;
    const group = groups.get(key);
    if (group) {
      if (b.column < group.b.column) group.b = b; // report at the leftmost place of the line
      if (!group.messages.includes(b.message)) group.messages.push(b.message);
      if (!group.rules.includes(b.bufRule)) group.rules.push(b.bufRule);
    } else {
      groups.set(key, { ruleId, b, messages: [b.message], rules: [b.bufRule], tail });
    }
  }
  for (const g of groups.values()) {
    const range = toRange(g.b);
    findings.push({
      ruleId: g.ruleId,
      file: input.diskPath(g.b.path),
      ...(range ? { range } : {}),
      message: `${g.messages.join(" ")} ${g.tail} [buf ${g.rules.join(", ")}, against ${input.baselineLabel}]`,
    });
  }
}

function usedBy(typeName: string, uses: readonly RoleUse[]): string {
  const labels = [...new Set(uses.map((u) => (u.typeName === typeName ? u.label : `${u.label} (through ${typeName})`)))];
  return labels.join(", ").replace(/^./, (c) => c.toUpperCase());
}

type Family = "event" | "timeline entity";

interface NameDef {
  readonly family: Family;
  readonly name: string;
  readonly m: AnnotatedMessage;
  readonly retired: boolean;
}

function names(messages: readonly AnnotatedMessage[]): NameDef[] {
  const out: NameDef[] = [];
  for (const m of messages) {
    if (m.event) {
      out.push({ family: "event", name: m.event.name, m, retired: false });
      for (const r of m.event.retiredNames) out.push({ family: "event", name: r, m, retired: true });
    }
    if (m.entity) {
      out.push({ family: "timeline entity", name: m.entity.kind, m, retired: false });
      for (const r of m.entity.retiredKinds) out.push({ family: "timeline entity", name: r, m, retired: true });
    }
  }
  return out;
}

function nameFindings(input: EvolutionInput, findings: Finding[]): void {
  const current = names(input.current);
  const byName = new Map(current.map((d) => [`${d.family}\u0000${d.name}`, d]));
  const currentByType = new Map(input.current.map((m) => [m.desc.typeName, m]));
  const persistedTypes = new Set(input.current.filter((m) => m.event || m.entity).map((m) => m.desc.typeName));
  const retireField = (family: Family) => (family === "event" ? "retired_names" : "retired_kinds");
  const optionName = (family: Family) => (family === "event" ? "sessionstream.v1.event" : "sessionstream.v1.timeline_entity");

  for (const old of names(input.baseline)) {
    if (old.retired && old.family === "event" && !old.m.event) continue;
    const key = `${old.family}\u0000${old.name}`;
    const now = byName.get(key);
    const oldType = old.m.desc.typeName;
    const label = old.family === "event" ? `event "${old.name}"` : `timeline entity kind "${old.name}"`;

    if (!now) {
      // The name is gone: stored rows under it belong to nothing.
      const same = currentByType.get(oldType);
      const at = same ? locate(same, old.family, input) : fileOnly(old.m, input);
      findings.push({
        ...at,
        ruleId: "persisted-name-removed",
        message:
          `${label} (${oldType} in ${input.baselineLabel}) is gone: stores keep rows under this name, which nothing registers any more. ` +
          `Keep the name, or retire it on the message that reads those rows: option (${optionName(old.family)}) = { ... ${retireField(old.family)}: "${old.name}" }`,
      });
      continue;
    }

    // The name lives on; the rows it names carry the old type name.
    if (!persistedTypes.has(oldType)) {
      const at = locate(now.m, now.family, input);
      const gone = input.currentTypeNames.has(oldType) ? `${oldType} is no longer annotated as an event or timeline entity` : `${oldType} no longer exists`;
      findings.push({
        ...at,
        ruleId: "persisted-type-renamed",
        message:
          `${label} was stored as ${oldType} (${input.baselineLabel}) and is now ${now.m.desc.typeName}: stored rows carry the type name ${oldType}, and ${gone}, so they cannot be decoded. ` +
          `Keep the message under its old full name (package and name), or migrate the stored rows`,
      });
    }

    // The entity id keys stored rows and snapshots.
    if (old.family === "timeline entity" && old.m.entity && now.m.entity && old.m.entity.idField !== now.m.entity.idField) {
      const e = now.m.entity;
      findings.push({
        file: now.m.file,
        range: e.explicitIdField ? e.at(2) : e.range,
        suppressibleAt: [now.m.range.line],
        ruleId: "timeline-id-field-changed",
        message:
          `timeline entity "${old.name}" id_field changed from "${old.m.entity.idField}" to "${e.idField}" (against ${input.baselineLabel}): ` +
          `stored entities are keyed by the old field, so updates would create duplicates instead of replacing them. Keep id_field "${old.m.entity.idField}", or rebuild every session's timeline`,
      });
    }
  }
}

function locate(m: AnnotatedMessage, family: Family, _input: EvolutionInput): Pick<Finding, "file" | "range" | "suppressibleAt"> {
  const range: SourceRange = (family === "event" ? m.event?.range : m.entity?.range) ?? m.range;
  return { file: m.file, range, suppressibleAt: [m.range.line] };
}

// A baseline message that vanished: point at the same proto file today, if any, without a position.
function fileOnly(m: AnnotatedMessage, input: EvolutionInput): Pick<Finding, "file"> {
  return { file: input.diskPath(m.file) };
}

function toRange(b: BufBreakingFinding): SourceRange | undefined {
  if (b.line <= 0) return undefined;
  return { line: b.line, column: Math.max(b.column, 1), endLine: Math.max(b.endLine, b.line), endColumn: Math.max(b.endColumn, 1) };
}
