import { getOption, hasOption, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import { command, event, timeline_entity, ui_event } from "../../gen/sessionstream/v1/options_pb.js";
import type { SourceRange } from "../diagnostic.js";

// Field numbers in descriptor.proto / options.proto, for source-code-info paths.
const FILE_MESSAGE_TYPE = 4;
const MESSAGE_FIELD = 2;
const MESSAGE_NESTED_TYPE = 3;
const MESSAGE_OPTIONS = 7;

/** An option of an annotated message, with the source path of its fields. */
interface Located {
  /** Where the whole `option (...) = {...}` statement is. */
  readonly range: SourceRange;
  /** Where a sub-field is: `at(1)` for a singular field, `at(2, i)` for element `i` of a repeated one. */
  at(...subPath: number[]): SourceRange;
}

/** A message carrying at least one sessionstream annotation, with everything rules need. */
export interface AnnotatedMessage {
  readonly desc: DescMessage;
  /** Disk path of the .proto file. */
  readonly file: string;
  /** Where the `message` declaration is. */
  readonly range: SourceRange;
  /** Where field `index` (declaration order) is. */
  fieldRange(index: number): SourceRange;
  readonly command?: {
    readonly name: string;
    /** The run kind its handler starts (`starts_run`); undefined when none. */
    readonly startsRun?: string;
  } & Located;
  readonly event?: {
    readonly name: string;
    readonly uiEvents: readonly string[];
    readonly entities: readonly string[];
    /** Former names whose stored rows this message still decodes (`retired_names`). */
    readonly retiredNames: readonly string[];
    /** Run kinds this event ends (`ends_runs`), as written (the rules use the positions). */
    readonly endsRuns: readonly string[];
  } & Located;
  readonly uiEvent?: { readonly names: readonly string[]; readonly explicitNames: boolean } & Located;
  readonly entity?: {
    readonly kind: string;
    readonly idField: string;
    readonly explicitIdField: boolean;
    /** Former kinds whose stored rows this message still decodes (`retired_kinds`). */
    readonly retiredKinds: readonly string[];
  } & Located;
}

/**
 * Every annotated message of `file` (nested ones included), with 1-based
 * positions from the file's source code info. Names left out default to the
 * message's simple name, as in `options.proto`.
 */
export function annotatedMessages(file: DescFile, diskPath: string): AnnotatedMessage[] {
  const spans = new Map<string, readonly number[]>();
  for (const loc of file.proto.sourceCodeInfo?.location ?? []) {
    const key = loc.path.join(",");
    // The first location of a path is the whole element; later ones repeat it for comments.
    if (!spans.has(key)) spans.set(key, loc.span);
  }
  const rangeOf = (path: readonly number[], fallback?: SourceRange): SourceRange =>
    toRange(spans.get(path.join(","))) ?? fallback ?? { line: 1, column: 1, endLine: 1, endColumn: 1 };

  const out: AnnotatedMessage[] = [];
  const visit = (desc: DescMessage, path: number[]): void => {
    const range = rangeOf(path);
    const located = (extensionNumber: number): Located => {
      const optionPath = [...path, MESSAGE_OPTIONS, extensionNumber];
      const optionRange = rangeOf(optionPath, rangeOf([...path, MESSAGE_OPTIONS], range));
      return { range: optionRange, at: (...sub) => rangeOf([...optionPath, ...sub], optionRange) };
    };
    const message: {
      -readonly [K in keyof AnnotatedMessage]: AnnotatedMessage[K];
    } = { desc, file: diskPath, range, fieldRange: (i) => rangeOf([...path, MESSAGE_FIELD, i], range) };
    let annotated = false;
    if (hasOption(desc, command)) {
      const o = getOption(desc, command);
      const startsRun = o.startsRun.trim();
      message.command = { name: o.name || desc.name, ...(startsRun !== "" ? { startsRun } : {}), ...located(command.number) };
      annotated = true;
    }
    if (hasOption(desc, event)) {
      const o = getOption(desc, event);
      message.event = {
        name: o.name || desc.name,
        uiEvents: o.uiEvents,
        entities: o.timelineEntities,
        retiredNames: o.retiredNames,
        endsRuns: o.endsRuns.map((k) => k.trim()),
        ...located(event.number),
      };
      annotated = true;
    }
    if (hasOption(desc, ui_event)) {
      const o = getOption(desc, ui_event);
      const explicitNames = o.names.length > 0;
      message.uiEvent = { names: explicitNames ? o.names : [desc.name], explicitNames, ...located(ui_event.number) };
      annotated = true;
    }
    if (hasOption(desc, timeline_entity)) {
      const o = getOption(desc, timeline_entity);
      message.entity = {
        kind: o.kind || desc.name,
        idField: o.idField || "id",
        explicitIdField: o.idField !== "",
        retiredKinds: o.retiredKinds,
        ...located(timeline_entity.number),
      };
      annotated = true;
    }
    if (annotated) out.push(message);
    desc.nestedMessages.forEach((nested, i) => visit(nested, [...path, MESSAGE_NESTED_TYPE, i]));
  };
  file.messages.forEach((desc, i) => visit(desc, [FILE_MESSAGE_TYPE, i]));
  return out;
}

// Source code info spans are 0-based [startLine, startCol, endLine, endCol], or [line, startCol, endCol].
function toRange(span: readonly number[] | undefined): SourceRange | undefined {
  if (!span || span.length < 3) return undefined;
  const [line = 0, column = 0] = span;
  const endLine = span.length === 4 ? (span[2] ?? line) : line;
  const endColumn = span.length === 4 ? (span[3] ?? column) : (span[2] ?? column);
  return { line: line + 1, column: column + 1, endLine: endLine + 1, endColumn: endColumn + 1 };
}
