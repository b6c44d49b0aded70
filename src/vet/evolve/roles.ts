// Which wire each message type travels on: persisted (events and timeline
// entities, stored as protobuf binary) or JSON (UI events, commands and
// timeline entities in snapshots), including every message and enum they
// use through their fields; and which type a source line belongs to.
import type { DescEnum, DescFile, DescMessage } from "@bufbuild/protobuf";
import type { AnnotatedMessage } from "../proto/annotations.js";

/** A role that makes a type's encoding a contract. */
export interface RoleUse {
  /** `event "ChatTokensDelta"`, `timeline entity "ChatMessage"`, `UI event "ChatMessageStarted"`, `command "ChatStart"`. */
  readonly label: string;
  /** The annotated message carrying the role. */
  readonly typeName: string;
  /** Stored as protobuf binary (events, timeline entities). */
  readonly persisted: boolean;
  /** Sent or received as protobuf JSON (UI events, commands, entities in snapshots). */
  readonly json: boolean;
}

/** For each message or enum type name, the roles that reach it (its own, or through fields of an annotated message). */
export function rolesByType(messages: readonly AnnotatedMessage[]): Map<string, RoleUse[]> {
  const out = new Map<string, RoleUse[]>();
  const add = (root: DescMessage, use: RoleUse): void => {
    const seen = new Set<string>();
    const visit = (desc: DescMessage | DescEnum): void => {
      if (seen.has(desc.typeName)) return;
      seen.add(desc.typeName);
      const list = out.get(desc.typeName) ?? [];
      list.push(use);
      out.set(desc.typeName, list);
      if (desc.kind !== "message") return;
      for (const field of desc.fields) {
        if (field.fieldKind === "message") visit(field.message);
        else if (field.fieldKind === "enum") visit(field.enum);
        else if (field.fieldKind === "list" && field.listKind === "message") visit(field.message);
        else if (field.fieldKind === "list" && field.listKind === "enum") visit(field.enum);
        else if (field.fieldKind === "map" && field.mapKind === "message") visit(field.message);
        else if (field.fieldKind === "map" && field.mapKind === "enum") visit(field.enum);
      }
    };
    visit(root);
  };
  for (const m of messages) {
    const typeName = m.desc.typeName;
    if (m.event) add(m.desc, { label: `event "${m.event.name}"`, typeName, persisted: true, json: false });
    if (m.entity) add(m.desc, { label: `timeline entity "${m.entity.kind}"`, typeName, persisted: true, json: true });
    if (m.uiEvent) add(m.desc, { label: `UI event "${m.uiEvent.names.join('", "')}"`, typeName, persisted: false, json: true });
    if (m.command) add(m.desc, { label: `command "${m.command.name}"`, typeName, persisted: false, json: true });
  }
  return out;
}

interface TypeSpan {
  readonly typeName: string;
  readonly startLine: number;
  readonly endLine: number;
}

/**
 * A lookup of the innermost message or enum declared around a 1-based line
 * of `file` (from its source code info), or `undefined`.
 */
export function typeAtLine(file: DescFile): (line: number) => string | undefined {
  const spans = new Map<string, readonly number[]>();
  for (const loc of file.proto.sourceCodeInfo?.location ?? []) {
    const key = loc.path.join(",");
    if (!spans.has(key)) spans.set(key, loc.span);
  }
  const list: TypeSpan[] = [];
  const push = (typeName: string, path: number[]): void => {
    const span = spans.get(path.join(","));
    if (!span || span.length < 3) return;
    const start = (span[0] ?? 0) + 1;
    const end = (span.length === 4 ? (span[2] ?? 0) : (span[0] ?? 0)) + 1;
    list.push({ typeName, startLine: start, endLine: end });
  };
  const visit = (desc: DescMessage, path: number[]): void => {
    push(desc.typeName, path);
    desc.nestedMessages.forEach((m, i) => visit(m, [...path, 3, i]));
    desc.nestedEnums.forEach((e, i) => push(e.typeName, [...path, 4, i]));
  };
  file.messages.forEach((m, i) => visit(m, [4, i]));
  file.enums.forEach((e, i) => push(e.typeName, [5, i]));
  return (line) => {
    let best: TypeSpan | undefined;
    for (const s of list) {
      if (line < s.startLine || line > s.endLine) continue;
      if (!best || s.endLine - s.startLine < best.endLine - best.startLine) best = s;
    }
    return best?.typeName;
  };
}
