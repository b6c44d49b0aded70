// Run kinds as the annotations declare them: a command's `starts_run` names
// the kind its handler starts, an event's `ends_runs` the kinds it ends (a
// terminal event, published by the kind's hooks). Shared by the emitters,
// the stubs and the stub merger, so they agree on every kind and name.
import type { CommandModel, EventModel, FileModel } from "./annotations.js";
import { camelCase, kebabCase } from "./names.js";

/** One run kind of the app, with the commands that start it and the events that end it. */
export interface RunKindModel {
  readonly kind: string;
  /** Commands whose `starts_run` names the kind (any file). */
  readonly startedBy: readonly CommandModel[];
  /** Events whose `ends_runs` names the kind (any file): its terminal events. */
  readonly endedBy: readonly EventModel[];
}

/**
 * Every run kind of `models`, in order of first mention (per file: the
 * commands' `starts_run`, then the events' `ends_runs`). A kind only an event
 * names is a kind too: its runs may be started by hand (`hub.startRun`).
 */
export function runKinds(models: readonly FileModel[]): RunKindModel[] {
  const kinds = new Map<string, { kind: string; startedBy: CommandModel[]; endedBy: EventModel[] }>();
  const get = (kind: string) => {
    let k = kinds.get(kind);
    if (!k) kinds.set(kind, (k = { kind, startedBy: [], endedBy: [] }));
    return k;
  };
  for (const m of models) {
    for (const c of m.commands) if (c.startsRun !== undefined) get(c.startsRun).startedBy.push(c);
    for (const e of m.events) for (const kind of e.endsRuns) get(kind).endedBy.push(e);
  }
  return [...kinds.values()];
}

/** The run kinds one proto file mentions (its commands start or its events end), in order of first mention. */
export function fileRunKinds(model: FileModel): string[] {
  return runKinds([model]).map((k) => k.kind);
}

/** True when some annotation of `models` names a run kind. */
export function hasRunKinds(models: readonly FileModel[]): boolean {
  return models.some((m) => m.commands.some((c) => c.startsRun !== undefined) || m.events.some((e) => e.endsRuns.length > 0));
}

/** The exported identifier of a run kind's hooks stub: `chat.answer` -> `chatAnswerHooks`. */
export function runHooksIdentifier(kind: string): string {
  return `${camelCase(kind)}Hooks`;
}

/** Where a run kind's hooks stub goes, relative to the stubs dir: `chat.answer` -> `runs/chat-answer.ts`. */
export function runHooksPath(kind: string): string {
  return `runs/${kebabCase(kind)}.ts`;
}
