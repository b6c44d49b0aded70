import { ScalarType } from "@bufbuild/protobuf";
import { UNTYPED_MESSAGE_TYPES } from "../../runtime/registry.js";
import type { Finding, SourceRange } from "../diagnostic.js";
import type { AnnotatedMessage } from "./annotations.js";

/** Options of {@link checkAnnotatedMessages}. */
export interface ProtoRuleOptions {
  /** Report findings only for these files (names from every message still count). Default: all. */
  readonly reportFile?: (file: string) => boolean;
  /**
   * Skip the rules that need every message (unknown targets, undeclared UI
   * events, run kinds): when some protos failed to compile, their names are missing.
   */
  readonly skipCrossReferences?: boolean;
  /** How a file is named inside messages (e.g. relative to the working directory). Default: as is. */
  readonly displayPath?: (file: string) => string;
}

type FamilyKey = "command" | "event" | "UI event" | "timeline entity kind";

/** Runs every proto rule over the annotated messages of all compiled files. */
export function checkAnnotatedMessages(messages: readonly AnnotatedMessage[], options: ProtoRuleOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const report = (m: AnnotatedMessage, ruleId: string, range: SourceRange, message: string): void => {
    if (options.reportFile && !options.reportFile(m.file)) return;
    findings.push({ ruleId, file: m.file, range, message, suppressibleAt: [m.range.line, range.line] });
  };

  const seen = new Map<string, { m: AnnotatedMessage; range: SourceRange }>();
  const declare = (family: FamilyKey, name: string, m: AnnotatedMessage, range: SourceRange): void => {
    const key = `${family}\u0000${name}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, { m, range });
      return;
    }
    const where = `${first.m.desc.typeName} (${(options.displayPath ?? String)(first.m.file)}:${first.range.line}:${first.range.column})`;
    report(m, "duplicate-name", range, `duplicate ${family} name "${name}": also declared by ${where}`);
  };

  for (const m of messages) {
    checkUntyped(m, report);
    if (m.command) declare("command", m.command.name, m, m.command.at(1));
    if (m.event) {
      const ev = m.event;
      declare("event", ev.name, m, ev.at(1));
      if (ev.uiEvents.length === 0 && ev.entities.length === 0) {
        report(m, "event-without-projection", ev.range, `event "${ev.name}" (${m.desc.typeName}) declares no ui_events and no timeline_entities: nothing changes when it is published`);
      } else if (ev.entities.length === 0) {
        report(m, "live-only-ui-event", ev.range, `event "${ev.name}" declares UI events (${ev.uiEvents.join(", ")}) but no timeline entity: a reload loses the state they built`);
      }
    }
    if (m.uiEvent) {
      const ui = m.uiEvent;
      ui.names.forEach((name, i) => declare("UI event", name, m, ui.explicitNames ? ui.at(1, i) : ui.range));
    }
    if (m.entity) {
      declare("timeline entity kind", m.entity.kind, m, m.entity.at(1));
      checkIdField(m, report);
    }
  }

  if (!options.skipCrossReferences) crossReferences(messages, report);
  return findings;
}

type Report = (m: AnnotatedMessage, ruleId: string, range: SourceRange, message: string) => void;

// The proto form of a top-level Struct: an annotated message whose only field is an untyped value.
function checkUntyped(m: AnnotatedMessage, report: Report): void {
  const role = m.command ? "command" : m.event ? "event" : m.uiEvent ? "UI event" : "timeline entity";
  if (UNTYPED_MESSAGE_TYPES.has(m.desc.typeName)) {
    report(m, "no-top-level-struct", m.range, `${m.desc.typeName} is annotated as a ${role}: its payload is untyped JSON`);
    return;
  }
  const [only, ...rest] = m.desc.fields;
  if (!only || rest.length > 0 || only.fieldKind !== "message" || !UNTYPED_MESSAGE_TYPES.has(only.message.typeName)) return;
  report(
    m,
    "no-top-level-struct",
    m.fieldRange(0),
    `${role} ${m.desc.typeName} only wraps ${only.message.typeName} (field "${only.name}"): its payload is untyped JSON`,
  );
}

function checkIdField(m: AnnotatedMessage, report: Report): void {
  const entity = m.entity;
  if (!entity) return;
  const index = m.desc.fields.findIndex((f) => f.name === entity.idField);
  const field = m.desc.fields[index];
  if (!field) {
    const range = entity.explicitIdField ? entity.at(2) : entity.range;
    report(m, "timeline-id-field", range, `timeline entity "${entity.kind}" (${m.desc.typeName}) has no field "${entity.idField}" to use as its id`);
    return;
  }
  if (field.fieldKind !== "scalar" || field.scalar !== ScalarType.STRING) {
    const kind = field.fieldKind === "scalar" ? ScalarType[field.scalar].toLowerCase() : field.fieldKind;
    report(m, "timeline-id-field", m.fieldRange(index), `timeline entity "${entity.kind}" id field "${field.name}" is ${kind}, not a singular string`);
  }
}

function crossReferences(messages: readonly AnnotatedMessage[], report: Report): void {
  const uiEventNames = new Set(messages.flatMap((m) => m.uiEvent?.names ?? []));
  const entityKinds = new Set(messages.flatMap((m) => (m.entity ? [m.entity.kind] : [])));
  const declaredUIEvents = new Set(messages.flatMap((m) => m.event?.uiEvents ?? []));
  const startedKinds = new Set(messages.flatMap((m) => (m.command?.startsRun !== undefined ? [m.command.startsRun] : [])));
  const endedKinds = new Set(messages.flatMap((m) => m.event?.endsRuns ?? []));
  for (const m of messages) {
    const cmd = m.command;
    if (cmd?.startsRun !== undefined && !endedKinds.has(cmd.startsRun)) {
      report(
        m,
        "run-without-terminal-event",
        cmd.at(2),
        `command "${cmd.name}" starts runs of kind "${cmd.startsRun}", but no event lists it in ends_runs: its hooks have no terminal event to publish, so a stopped, failed or interrupted run leaves the timeline looking alive`,
      );
    }
    const ev = m.event;
    if (ev) {
      ev.uiEvents.forEach((name, i) => {
        if (!uiEventNames.has(name)) report(m, "unknown-projection-target", ev.at(2, i), `event "${ev.name}" lists UI event "${name}", which no message annotated with ui_event defines`);
      });
      ev.entities.forEach((kind, i) => {
        if (!entityKinds.has(kind)) report(m, "unknown-projection-target", ev.at(3, i), `event "${ev.name}" lists timeline entity "${kind}", which no message annotated with timeline_entity defines`);
      });
      ev.endsRuns.forEach((kind, i) => {
        if (kind !== "" && !startedKinds.has(kind)) {
          report(m, "terminal-event-unknown-run", ev.at(5, i), `event "${ev.name}" ends run kind "${kind}", but no command starts it (starts_run)`);
        }
      });
    }
    const ui = m.uiEvent;
    if (ui) {
      ui.names.forEach((name, i) => {
        if (!declaredUIEvents.has(name)) report(m, "undeclared-ui-event", ui.explicitNames ? ui.at(1, i) : ui.range, `UI event "${name}" (${m.desc.typeName}) is not listed in any event's ui_events, so no projection can emit it`);
      });
    }
  }
}
