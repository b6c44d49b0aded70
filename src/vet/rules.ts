/** Severity of a reported diagnostic. */
export type Severity = "error" | "warning";

/** Where a rule looks. */
export type RuleScope = "typescript" | "proto" | "against" | "store" | "input";

/** Static description of one schema-vet rule. */
export interface RuleInfo {
  /** Stable id, used in config, suppression comments and every output format. */
  readonly id: string;
  /** Severity when the project config does not override it. */
  readonly defaultSeverity: Severity;
  /** Sources the rule inspects (`input` rules report unreadable inputs). */
  readonly scopes: readonly RuleScope[];
  /** One line: what the rule catches and why it matters. */
  readonly description: string;
  /** One line: how to fix a finding. */
  readonly fix: string;
  /**
   * Input failures (unparsable files, unreadable tsconfig or config): they
   * cannot be turned off or suppressed, and they make the exit code 2.
   */
  readonly fatal?: true;
}

/** Every rule, in documentation order. Ids are a stable contract. */
export const RULES: readonly RuleInfo[] = [
  {
    id: "no-top-level-struct",
    defaultSeverity: "error",
    scopes: ["typescript", "proto"],
    description:
      "A registered command, event, UI event or timeline entity is google.protobuf.Struct/Value/ListValue (or an annotated message that only wraps one): its payload is untyped JSON that no schema checks.",
    fix: "Define a concrete message with typed fields; a Struct field inside it is fine for truly free-form data.",
  },
  {
    id: "duplicate-name",
    defaultSeverity: "error",
    scopes: ["proto"],
    description: "Two annotated messages declare the same logical name within one family (commands, events, UI events or timeline kinds); registration would fail at startup.",
    fix: "Rename one of them with the annotation's name/names/kind option.",
  },
  {
    id: "timeline-id-field",
    defaultSeverity: "error",
    scopes: ["proto"],
    description: "A timeline entity's id_field (default \"id\") is missing from the message or is not a singular string field, so entities cannot be keyed.",
    fix: "Add a `string id` field, or set `id_field` to the name of the message's string id field.",
  },
  {
    id: "event-without-projection",
    defaultSeverity: "error",
    scopes: ["proto"],
    description: "An event declares no UI event and no timeline entity: a command validates but nothing visible or durable changes.",
    fix: "List what its projections emit in `ui_events` and/or `timeline_entities`.",
  },
  {
    id: "live-only-ui-event",
    defaultSeverity: "warning",
    scopes: ["proto"],
    description: "An event declares UI events but no timeline entity: live UI works, but a reload loses the state those UI events built.",
    fix: "Also declare the timeline entity that keeps this state durable (`timeline_entities`), or suppress the finding if the state is truly transient.",
  },
  {
    id: "undeclared-ui-event",
    defaultSeverity: "warning",
    scopes: ["proto"],
    description: "A UI event name is defined by a message but no event lists it in `ui_events`, so no projection can ever emit it.",
    fix: "Add the name to the `ui_events` of the event that produces it, or remove the UI event.",
  },
  {
    id: "unknown-projection-target",
    defaultSeverity: "error",
    scopes: ["proto"],
    description: "An event lists a UI event name or timeline entity kind that no annotated message defines.",
    fix: "Fix the spelling, or annotate the message that carries it with `ui_event` / `timeline_entity`.",
  },
  {
    id: "run-without-terminal-event",
    defaultSeverity: "warning",
    scopes: ["proto"],
    description:
      "A command starts runs of a kind (`starts_run`) that no event ends (`ends_runs`): the kind's hooks have no terminal event to publish, so a stopped, failed or interrupted run leaves the timeline looking alive.",
    fix: "Add the kind to `ends_runs` of the events its hooks publish when a run ends (e.g. ChatInferenceFinished, ChatInferenceStopped).",
  },
  {
    id: "terminal-event-unknown-run",
    defaultSeverity: "warning",
    scopes: ["proto"],
    description: "An event lists a run kind in `ends_runs` that no command starts (`starts_run`): a misspelt kind, or runs started by hand (`hub.startRun`).",
    fix: "Fix the spelling, set `starts_run` on the command that starts these runs, or suppress the finding when they are started by hand.",
  },
  {
    id: "persisted-wire-breaking",
    defaultSeverity: "error",
    scopes: ["against"],
    description:
      "A change to an event or timeline entity (or a message or enum they use) breaks the protobuf binary wire (buf WIRE rules: field number reused or retyped, field removed without `reserved`): stored rows no longer decode as written.",
    fix: "Undo the change; to drop a field, delete it and add `reserved <number>;` (and the name); to change a type, add a new field with a new number.",
  },
  {
    id: "json-wire-breaking",
    defaultSeverity: "warning",
    scopes: ["against"],
    description:
      "A change to a UI event, command or timeline entity breaks the protobuf JSON wire (buf WIRE_JSON rules: field renamed, json_name changed, enum value renamed): open tabs and API clients speak JSON.",
    fix: "Keep the old field and enum value names (add a new field instead), or ship the clients together with the change.",
  },
  {
    id: "persisted-type-renamed",
    defaultSeverity: "error",
    scopes: ["against"],
    description:
      "An event or timeline entity is now served by a message with another full type name (renamed or moved to another package): stored rows carry the old type name, which no longer resolves.",
    fix: "Keep the message under its old full name (package and message name), or migrate the stored rows.",
  },
  {
    id: "persisted-name-removed",
    defaultSeverity: "error",
    scopes: ["against"],
    description:
      "An event name or timeline entity kind of the baseline is gone: stores keep rows under that name, and nothing registers it any more.",
    fix: "Keep the name, or list it in `retired_names` (events) / `retired_kinds` (entities) of the message that reads the old rows.",
  },
  {
    id: "timeline-id-field-changed",
    defaultSeverity: "error",
    scopes: ["against"],
    description: "A timeline entity's id_field changed: stored entities are keyed by the old field, so updates would duplicate them instead of replacing them.",
    fix: "Keep the old id_field, or rebuild every session's timeline after the change.",
  },
  {
    id: "against-error",
    defaultSeverity: "error",
    scopes: ["input"],
    description: "The `--against` baseline cannot be read: not a git ref, folder or buf image, or its protos do not compile.",
    fix: "Pass a git ref that exists here (fetch it in CI), a folder of protos or a buf image (`buf build -o image.binpb`).",
    fatal: true,
  },
  {
    id: "store-unknown-name",
    defaultSeverity: "error",
    scopes: ["store"],
    description: "The store holds rows under an event name or entity kind that no current message registers or retires.",
    fix: "Restore the name, or list it in `retired_names` / `retired_kinds` of the message that reads those rows.",
  },
  {
    id: "store-unresolved-type",
    defaultSeverity: "error",
    scopes: ["store"],
    description: "Stored rows carry a full type name that no current event or timeline entity message has: the store cannot decode them.",
    fix: "Keep (or restore) the message under that full name (package and message name), annotated.",
  },
  {
    id: "store-undecodable-payload",
    defaultSeverity: "error",
    scopes: ["store"],
    description: "Stored payloads do not decode with the current schema (a field's wire type changed, or the bytes are not valid protobuf).",
    fix: "Revert the proto change that broke them (`schema-vet --against` names it), or migrate the rows.",
  },
  {
    id: "store-unknown-field",
    defaultSeverity: "warning",
    scopes: ["store"],
    description: "Stored payloads hold a field number the current schema neither defines nor reserves: its data is dropped on read, and a future field with that number would misread it.",
    fix: "Add `reserved <number>;` to the message.",
  },
  {
    id: "rebuild-would-change",
    defaultSeverity: "warning",
    scopes: ["store"],
    description: "`--rebuild-dry-run`: replaying a session through the current projections yields other entities than the stored timeline.",
    fix: "If intended, run rebuildTimeline after deploying; otherwise fix the projection.",
  },
  {
    id: "rebuild-failed",
    defaultSeverity: "error",
    scopes: ["store"],
    description: "`--rebuild-dry-run`: the app cannot be loaded, or a session cannot be replayed through the current projections.",
    fix: "Fix the error shown (the app module, or the rows flagged by the other store rules).",
  },
  {
    id: "store-error",
    defaultSeverity: "error",
    scopes: ["input"],
    description: "`--store` cannot be opened read-only: a missing SQLite file, an unreachable PostgreSQL, or no sessionstream tables.",
    fix: "Pass the SQLite file or postgres:// URL (with ?schema=<name> when not public) the app runs on.",
    fatal: true,
  },
  {
    id: "ts-parse-error",
    defaultSeverity: "error",
    scopes: ["input"],
    description: "A TypeScript file has syntax errors; its registrations may be missed.",
    fix: "Fix the syntax error (run `tsc --noEmit` for details).",
    fatal: true,
  },
  {
    id: "proto-parse-error",
    defaultSeverity: "error",
    scopes: ["input"],
    description: "A .proto file does not compile; its annotations cannot be checked.",
    fix: "Fix the compiler error shown; the other protos are still checked.",
    fatal: true,
  },
  {
    id: "config-error",
    defaultSeverity: "error",
    scopes: ["input"],
    description: "An input could not be read: a missing path, an unreadable tsconfig.json, or an invalid sessionstream.config.json.",
    fix: "Fix the path or the JSON file named in the message.",
    fatal: true,
  },
];

const BY_ID = new Map(RULES.map((r) => [r.id, r]));

/** The rule with `id`, or `undefined`. */
export function findRule(id: string): RuleInfo | undefined {
  return BY_ID.get(id);
}

/** The rule with `id`; throws for an unknown id (a programming error). */
export function rule(id: string): RuleInfo {
  const found = BY_ID.get(id);
  if (!found) throw new Error(`unknown schema-vet rule ${id}`);
  return found;
}
