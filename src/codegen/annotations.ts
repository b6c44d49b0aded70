// Reads the sessionstream.v1 message options of compiled protos into a small
// model the emitters share, and checks it. Pure: no Node imports, so the
// plugin can run anywhere protoplugin runs.
import { getOption, hasOption, ScalarType, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import { getComments } from "./protoplugin.js";
import { command, event, timeline_entity, ui_event } from "../gen/sessionstream/v1/options_pb.js";
import { UNTYPED_MESSAGE_TYPES } from "../runtime/registry.js";
import { SessionstreamError } from "../runtime/errors.js";

/** Where an annotation sits in its proto file (1-based line and column). */
export interface SourcePosition {
  /** Proto path, e.g. `chat/v1/chat.proto`. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** A command message. */
export interface CommandModel {
  readonly name: string;
  readonly message: DescMessage;
  readonly at: SourcePosition;
  /** The run kind its handler starts (`starts_run`); undefined when it starts none. */
  readonly startsRun?: string;
}

/** An event message and what its projections may emit. */
export interface EventModel {
  readonly name: string;
  readonly message: DescMessage;
  readonly uiEvents: readonly string[];
  readonly entities: readonly string[];
  /** Run kinds this event ends (`ends_runs`): it is one of their terminal events. */
  readonly endsRuns: readonly string[];
  readonly at: SourcePosition;
}

/** One UI event name and the message serving it (a message may serve several names). */
export interface UIEventModel {
  readonly name: string;
  readonly message: DescMessage;
  readonly at: SourcePosition;
}

/** A timeline entity kind. */
export interface EntityModel {
  readonly kind: string;
  readonly message: DescMessage;
  /** Proto name of the string id field (default `id`). */
  readonly idField: string;
  /** Its TypeScript property name (`message_id` -> `messageId`). */
  readonly idLocalName: string;
  readonly at: SourcePosition;
}

/** The annotated messages of one proto file, in declaration order. */
export interface FileModel {
  readonly file: DescFile;
  readonly commands: readonly CommandModel[];
  readonly events: readonly EventModel[];
  readonly uiEvents: readonly UIEventModel[];
  readonly entities: readonly EntityModel[];
}

/** One annotation problem, with where it is and how to fix it. */
export interface AnnotationDiagnostic extends SourcePosition {
  /** The problem and the fix; names {@link related} as `file:line:col` when set. */
  readonly message: string;
  /** The other place involved (the first definition of a duplicate name), which {@link formatDiagnostic} maps like `file`. */
  readonly related?: SourcePosition;
}

/** Thrown for invalid annotations; the message lists `file:line:col: problem`. Code `invalid_argument`. */
export class AnnotationError extends SessionstreamError {
  readonly diagnostics: readonly AnnotationDiagnostic[];
  constructor(diagnostics: readonly AnnotationDiagnostic[]) {
    super("invalid_argument", diagnostics.map((d) => formatDiagnostic(d)).join("\n"));
    this.diagnostics = diagnostics;
  }
}

/** `file:line:col`. */
export function formatPosition(p: SourcePosition): string {
  return `${p.file}:${p.line}:${p.column}`;
}

/**
 * `file:line:col: message`. `displayFile` maps proto paths to how the caller
 * shows files (e.g. relative to the project); it applies to the related
 * location in the message too, so both places read the same way.
 */
export function formatDiagnostic(d: AnnotationDiagnostic, displayFile: (protoPath: string) => string = (f) => f): string {
  let message = d.message;
  if (d.related) {
    message = message.split(formatPosition(d.related)).join(formatPosition({ ...d.related, file: displayFile(d.related.file) }));
  }
  return `${formatPosition({ ...d, file: displayFile(d.file) })}: ${message}`;
}

/** True when the file has at least one sessionstream annotation. */
export function isAnnotated(model: FileModel): boolean {
  return model.commands.length + model.events.length + model.uiEvents.length + model.entities.length > 0;
}

/**
 * Reads the annotations of `files` and validates them across the whole input:
 * unique names per family, existing string `id_field`s, declared UI events and
 * entity kinds that some message defines, no untyped (Struct) payloads.
 * `context` adds the definitions of other files in the same request (e.g. the
 * imports) that `files` may refer to. Throws {@link AnnotationError}.
 */
export function readAnnotations(files: readonly DescFile[], context: readonly DescFile[] = files): FileModel[] {
  const diagnostics: AnnotationDiagnostic[] = [];
  const models = files.map((f) => readFile(f, diagnostics));
  const contextModels = context.filter((f) => !files.includes(f)).map((f) => readFile(f, []));
  const all = [...models, ...contextModels];

  checkUnique(all.flatMap((m) => m.commands.map((c) => ({ name: c.name, at: c.at }))), "command", diagnostics);
  checkUnique(all.flatMap((m) => m.events.map((c) => ({ name: c.name, at: c.at }))), "event", diagnostics);
  checkUnique(all.flatMap((m) => m.uiEvents.map((c) => ({ name: c.name, at: c.at }))), "UI event", diagnostics);
  checkUnique(all.flatMap((m) => m.entities.map((c) => ({ name: c.kind, at: c.at }))), "timeline entity kind", diagnostics);

  const uiNames = new Set(all.flatMap((m) => m.uiEvents.map((u) => u.name)));
  const kinds = new Set(all.flatMap((m) => m.entities.map((e) => e.kind)));
  for (const ev of models.flatMap((m) => m.events)) {
    for (const name of ev.uiEvents) {
      if (!uiNames.has(name)) {
        diagnostics.push({
          ...ev.at,
          message:
            `event "${ev.name}" declares UI event "${name}" but no message defines it; ` +
            `add option (sessionstream.v1.ui_event) = { names: "${name}" } to the message that carries it, or remove it from ui_events`,
        });
      }
    }
    for (const kind of ev.entities) {
      if (!kinds.has(kind)) {
        diagnostics.push({
          ...ev.at,
          message:
            `event "${ev.name}" declares timeline entity "${kind}" but no message defines it; ` +
            `add option (sessionstream.v1.timeline_entity) = { kind: "${kind}" } to the entity message, or remove it from timeline_entities`,
        });
      }
    }
  }
  if (diagnostics.length) throw new AnnotationError(diagnostics);
  return models;
}

function readFile(file: DescFile, diagnostics: AnnotationDiagnostic[]): FileModel {
  const commands: CommandModel[] = [];
  const events: EventModel[] = [];
  const uiEvents: UIEventModel[] = [];
  const entities: EntityModel[] = [];
  for (const message of allMessages(file.messages)) {
    const roles = [command, event, ui_event, timeline_entity].filter((ext) => hasOption(message, ext));
    if (roles.length === 0) continue;
    const at = position(message, roles[0]!.number);
    if (UNTYPED_MESSAGE_TYPES.has(message.typeName)) {
      diagnostics.push({ ...at, message: `${message.typeName} carries untyped JSON and cannot be a payload; annotate a concrete message with typed fields instead` });
      continue;
    }
    if (hasOption(message, command)) {
      const o = getOption(message, command);
      const name = o.name || message.name;
      const cmdAt = position(message, command.number);
      const startsRun = o.startsRun.trim();
      if (startsRun !== "" && !isRunKind(startsRun)) {
        diagnostics.push({ ...cmdAt, message: `command "${name}": starts_run "${o.startsRun}" is not a run kind name; use letters, digits, ".", "_" or "-" (e.g. "chat.answer")` });
      }
      commands.push({ name, message, at: cmdAt, ...(startsRun !== "" ? { startsRun } : {}) });
    }
    if (hasOption(message, event)) {
      const o = getOption(message, event);
      const name = o.name || message.name;
      const evAt = position(message, event.number);
      const endsRuns = unique(o.endsRuns.map((k) => k.trim()));
      for (const kind of endsRuns.filter((k) => !isRunKind(k))) {
        diagnostics.push({ ...evAt, message: `event "${name}": ends_runs "${kind}" is not a run kind name; use letters, digits, ".", "_" or "-" (e.g. "chat.answer")` });
      }
      events.push({
        name,
        message,
        uiEvents: unique(o.uiEvents),
        entities: unique(o.timelineEntities),
        endsRuns,
        at: evAt,
      });
    }
    if (hasOption(message, ui_event)) {
      const names = unique(getOption(message, ui_event).names);
      const uiAt = position(message, ui_event.number);
      for (const name of names.length ? names : [message.name]) uiEvents.push({ name, message, at: uiAt });
    }
    if (hasOption(message, timeline_entity)) {
      const o = getOption(message, timeline_entity);
      const idField = o.idField || "id";
      const entityAt = position(message, timeline_entity.number);
      const field = message.fields.find((f) => f.name === idField);
      if (!field || field.fieldKind !== "scalar" || field.scalar !== ScalarType.STRING) {
        const strings = message.fields.filter((f) => f.fieldKind === "scalar" && f.scalar === ScalarType.STRING).map((f) => f.name);
        diagnostics.push({
          ...entityAt,
          message:
            `timeline entity "${o.kind || message.name}": id_field "${idField}" ${field ? "is not a string field" : `is not a field of ${message.name}`}; ` +
            (strings.length ? `set id_field to one of its string fields (${strings.join(", ")})` : `add a string field "${idField}" to ${message.name}`),
        });
        continue;
      }
      entities.push({ kind: o.kind || message.name, message, idField, idLocalName: field.localName, at: entityAt });
    }
  }
  return { file, commands, events, uiEvents, entities };
}

function* allMessages(messages: readonly DescMessage[]): Generator<DescMessage> {
  for (const m of messages) {
    yield m;
    yield* allMessages(m.nestedMessages);
  }
}

/** A run kind name: starts with a letter, then letters, digits, `.`, `_`, `-` (`chat.answer`, `agent-step`). */
export function isRunKind(kind: string): boolean {
  return /^[A-Za-z][A-Za-z0-9._-]*$/.test(kind);
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names.filter((n) => n !== ""))];
}

function checkUnique(items: ReadonlyArray<{ name: string; at: SourcePosition }>, label: string, diagnostics: AnnotationDiagnostic[]): void {
  const first = new Map<string, SourcePosition>();
  for (const item of items) {
    const prev = first.get(item.name);
    if (!prev) {
      first.set(item.name, item.at);
      continue;
    }
    diagnostics.push({
      ...item.at,
      message: `duplicate ${label} name "${item.name}" (first defined at ${formatPosition(prev)}); give one of them a different name`,
      related: prev,
    });
  }
}

/**
 * The position of a message's option (or of the message when the compiler
 * kept no location for the option), from the file's source code info.
 */
function position(message: DescMessage, extensionNumber: number): SourcePosition {
  const path = getComments(message).sourcePath;
  const locations = message.file.proto.sourceCodeInfo?.location ?? [];
  const find = (p: readonly number[]) =>
    locations.find((l) => l.path.length === p.length && l.path.every((v, i) => v === p[i]));
  // 7 = DescriptorProto.options; the extension's number selects the option.
  const loc = find([...path, 7, extensionNumber]) ?? find(path);
  return { file: message.file.proto.name, line: (loc?.span[0] ?? 0) + 1, column: (loc?.span[1] ?? 0) + 1 };
}
