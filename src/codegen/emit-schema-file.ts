// Emits the regenerated `<file>_sessionstream.ts` of one annotated proto file:
// name constants (run kinds too, when annotations name any), the file's
// schema, register<Stem>Schemas, handler map types and the projection dispatchers. Handlers and case maps are typed against the
// app-level `AppSchema` (emit-app-file.ts), so they see every file's names.
import type { GeneratedFile, ImportSymbol, Schema } from "@bufbuild/protoplugin";
import type { FileModel } from "./annotations.js";
import { APP_IMPORT } from "./emit-app-file.js";
import { camelCase, fileStem, generatedFileName, propertyKey } from "./names.js";
import { fileRunKinds } from "./run-kinds.js";

/** Options of the emitter (from the plugin options). */
export interface EmitOptions {
  /** Module the runtime is imported from. Default `sessionstream`. */
  readonly runtimeImport: string;
}

/** Writes the `_sessionstream.ts` file of `model` into `schema`. */
export function emitSchemaFile(schema: Schema<object>, model: FileModel, options: EmitOptions): void {
  const f = schema.generateFile(generatedFileName(model.file));
  f.preamble(model.file);
  const stem = fileStem(model.file);
  const proto = `${model.file.name}.proto`;
  const rt = (name: string, typeOnly = true) => f.import(name, options.runtimeImport, typeOnly);
  const appSchema = `${stem}Schema`;
  // The app-level schema (every annotated file of the run): what handlers and case maps are typed against.
  const app = () => f.import("AppSchema", APP_IMPORT, true);

  // Name constants: one object per family, so `ChatCommandNames.ChatStartInference` is a literal type.
  const constants: Array<[string, string, readonly string[]]> = [
    ["CommandNames", "command names", model.commands.map((c) => c.name)],
    ["EventNames", "event names", model.events.map((e) => e.name)],
    ["UIEventNames", "UI event names", model.uiEvents.map((u) => u.name)],
    ["EntityKinds", "timeline entity kinds", model.entities.map((e) => e.kind)],
  ];
  for (const [suffix, label, names] of constants) {
    if (names.length === 0) continue;
    f.print(f.jsDoc(`The ${label} declared in ${proto}.`));
    f.print(f.export("const", `${stem}${suffix}`), " = {");
    for (const n of names) f.print("  ", propertyKey(n), ": ", f.string(n), ",");
    f.print("} as const;");
    f.print();
  }
  // Run kinds (only when an annotation names one, so files without runs generate what they always did).
  const kinds = fileRunKinds(model);
  if (kinds.length) {
    f.print(f.jsDoc(`The run kinds of ${proto}: started by its commands (\`starts_run\`) or ended by its events (\`ends_runs\`).`));
    f.print(f.export("const", `${stem}RunKinds`), " = {");
    for (const k of kinds) f.print("  ", propertyKey(k), ": ", f.string(k), ",");
    f.print("} as const;");
    f.print();
    f.print(f.jsDoc(`A run kind of ${proto}; \`kind: "…" satisfies ${stem}RunKind\` checks a kind passed to \`startRun\`.`));
    f.print(f.export("type", `${stem}RunKind`), " = (typeof ", stem, "RunKinds)[keyof typeof ", stem, "RunKinds];");
    f.print();
  }

  // The app schema: logical name -> message schema, per family.
  f.print(f.jsDoc(`The schema of ${proto}: each logical name mapped to its message schema, per family.\n` +
    `A registry from {@link register${stem}Schemas} carries it; the app-level \`AppSchema\` joins every file's.`));
  f.print(f.export("interface", appSchema), " {");
  const family = (key: string, entries: ReadonlyArray<{ name: string; schema: ImportSymbol; typeName: string }>) => {
    if (entries.length === 0) return f.print("  ", key, ": {};");
    f.print("  ", key, ": {");
    for (const e of entries) {
      f.print("    /** ", e.typeName, " */");
      f.print("    ", propertyKey(e.name), ": typeof ", e.schema, ";");
    }
    f.print("  };");
  };
  family("commands", model.commands.map((c) => ({ name: c.name, schema: f.importSchema(c.message, true), typeName: c.message.typeName })));
  family("events", model.events.map((c) => ({ name: c.name, schema: f.importSchema(c.message, true), typeName: c.message.typeName })));
  family("uiEvents", model.uiEvents.map((c) => ({ name: c.name, schema: f.importSchema(c.message, true), typeName: c.message.typeName })));
  family("entities", model.entities.map((c) => ({ name: c.kind, schema: f.importSchema(c.message, true), typeName: c.message.typeName })));
  f.print("}");
  f.print();

  f.print(f.jsDoc(`Fails to compile, with the fix in the message, when the app-level \`AppSchema\` was generated without ${proto}.`));
  f.print("true satisfies ", rt("AppCovers"), "<", app(), ", ", appSchema, ">;");
  f.print();

  emitRegistration(f, model, stem, proto, rt);
  if (model.commands.length) emitHandlers(f, model, stem, proto, rt, app);
  if (model.entities.length) emitEntityHelpers(f, model, stem, proto, rt);
  if (model.events.length) emitProjections(f, model, stem, proto, rt, app);
}

type RuntimeImport = (name: string, typeOnly?: boolean) => ImportSymbol;
type AppImport = () => ImportSymbol;

function emitRegistration(f: GeneratedFile, model: FileModel, stem: string, proto: string, rt: RuntimeImport): void {
  const reg = rt("SchemaRegistry", false);
  f.print(f.jsDoc(`Registers every logical name of ${proto} on \`registry\`; returns it with the names in its type.\n` +
    `Chain the register functions of several proto files to build one app: \`registerBSchemas(registerASchemas(new SchemaRegistry()))\`.`));
  f.print(f.export("function", `register${stem}Schemas`), "<S extends ", rt("AnyAppSchema"), ">(registry: ", reg, "<S>): ", reg,
    "<", rt("MergeAppSchemas"), "<S, ", stem, "Schema>> {");
  f.print("  return (registry");
  for (const c of model.commands) f.print("    .registerCommand(", f.string(c.name), ", ", f.importSchema(c.message), ")");
  for (const e of model.events) f.print("    .registerEvent(", f.string(e.name), ", ", f.importSchema(e.message), ")");
  for (const u of model.uiEvents) f.print("    .registerUIEvent(", f.string(u.name), ", ", f.importSchema(u.message), ")");
  for (const e of model.entities) f.print("    .registerTimelineEntity(", f.string(e.kind), ", ", f.importSchema(e.message), ")");
  // The chained WithName<...> type equals MergeAppSchemas<S, Schema> but the compiler cannot prove it for a generic S.
  f.print("  ) as unknown as ", reg, "<", rt("MergeAppSchemas"), "<S, ", stem, "Schema>>;");
  f.print("}");
  f.print();
  f.print(f.jsDoc(`A new registry holding the names of ${proto}.`));
  f.print(f.export("function", `create${stem}Registry`), "(): ", reg, "<", stem, "Schema> {");
  f.print("  return register", stem, "Schemas(new ", reg, "()) as ", reg, "<", stem, "Schema>;");
  f.print("}");
  f.print();
}

function emitHandlers(f: GeneratedFile, model: FileModel, stem: string, proto: string, rt: RuntimeImport, app: AppImport): void {
  f.print(f.jsDoc(`The handler of command \`N\` of ${proto}: it may publish any event of the app and never returns UI state.`));
  f.print(f.export("type", `${stem}CommandHandler`), "<N extends ", rt("NamesOf"), "<", stem, "Schema[\"commands\"]>> = ",
    rt("CommandHandler"), "<", app(), ", N>;");
  f.print();
  f.print(f.jsDoc(`One handler per command of ${proto}; leaving one out is a compile error.`));
  f.print(f.export("type", `${stem}CommandHandlers`), " = ", rt("CommandHandlerMap"), "<", app(), ", ", rt("NamesOf"),
    "<", stem, "Schema[\"commands\"]>>;");
  f.print();
  const hub = rt("Hub");
  f.print(f.jsDoc(`Registers the handlers of every command of ${proto} on \`hub\` (a hub of the whole app: they may publish any of its events).`));
  f.print(f.export("function", `register${stem}Handlers`), "<S extends ", app(), ">(hub: ", hub, "<S>, handlers: ", stem,
    "CommandHandlers): ", hub, "<S> {");
  // The hub's S contains this file's schema; the casts only widen the handler's publisher to S.
  for (const c of model.commands) {
    f.print("  hub.registerCommand(", f.string(c.name), " as never, handlers", access(c.name), " as never);");
  }
  f.print("  return hub;");
  f.print("}");
  f.print();
}

function emitEntityHelpers(f: GeneratedFile, model: FileModel, stem: string, proto: string, rt: RuntimeImport): void {
  f.print(f.jsDoc(`Timeline entity changes of ${proto} with the id read from each kind's \`id_field\`:\n` +
    "`upsert(payload)` creates or replaces the entity, `remove(id)` tombstones it."));
  f.print(f.export("const", `${stem}Entities`), " = {");
  for (const e of model.entities) {
    const init = f.import("MessageInitShape", "@bufbuild/protobuf", true);
    f.print("  ", propertyKey(e.kind), ": {");
    f.print("    upsert: (payload: ", init, "<typeof ", f.importSchema(e.message, true), "> & { ", propertyKey(e.idLocalName), ": string }) =>");
    f.print("      ({ kind: ", f.string(e.kind), ", id: payload", access(e.idLocalName), ", payload }) as const,");
    f.print("    remove: (id: string) => ({ kind: ", f.string(e.kind), ", id, tombstone: true }) as const,");
    f.print("  },");
  }
  f.print("};");
  f.print();
}

function emitProjections(f: GeneratedFile, model: FileModel, stem: string, proto: string, rt: RuntimeImport, app: AppImport): void {
  const emits = (label: string, suffix: string, pick: (e: FileModel["events"][number]) => readonly string[]) => {
    f.print(f.jsDoc(`The ${label} each event of ${proto} may emit, from its annotation (\`never\`: none).`));
    f.print(f.export("interface", `${stem}${suffix}`), " {");
    for (const e of model.events) {
      const names = pick(e);
      f.print("  ", propertyKey(e.name), ": ", names.length ? names.map((n) => JSON.stringify(n)).join(" | ") : "never", ";");
    }
    f.print("}");
    f.print();
  };
  emits("UI events", "UIEmits", (e) => e.uiEvents);
  emits("timeline entity kinds", "EntityEmits", (e) => e.entities);

  const families = [
    { kind: "UI", cases: "UIProjectionCases", emits: "UIEmits", projection: "UIProjection", fn: `${camelCase(stem)}UIProjection`, what: "live UI events" },
    { kind: "Timeline", cases: "TimelineProjectionCases", emits: "EntityEmits", projection: "TimelineProjection", fn: `${camelCase(stem)}TimelineProjection`, what: "timeline entity changes" },
  ] as const;
  for (const fam of families) {
    f.print(f.jsDoc(`The ${fam.kind === "UI" ? "UI" : "timeline"} projection of ${proto} as a case map: one entry per event ` +
      `(a missing one is a compile error; \`null\` ignores the event), each returning only the ${fam.what} its annotation declares.`));
    f.print(f.export("type", `${stem}${fam.cases}`), " = ", rt(fam.cases), "<", app(), ", ", stem, fam.emits, ">;");
    f.print();
  }
  for (const fam of families) {
    f.print(f.jsDoc(`Turns the case map into a projection for \`hub.register${fam.kind}Projection\`.\n` +
      `Events of other proto files (in a hub of several) yield nothing here.`));
    f.print(f.export("function", fam.fn), "<S extends ", app(), " = ", app(), ">(cases: ", stem, fam.cases, "): ",
      rt(fam.projection), "<S> {");
    f.print("  return (event, session, view) => {");
    // S contains this file's events; narrowing needs the concrete union of this file.
    f.print("    const ev = event as unknown as ", rt("BackendEvent"), "<", stem, "Schema>;");
    f.print("    switch (ev.name) {");
    for (const e of model.events) {
      f.print("      case ", f.string(e.name), ":");
      f.print("        return (cases", access(e.name), "?.(ev, session, view) ?? []) as never;");
    }
    f.print("      default:");
    f.print("        return [];");
    f.print("    }");
    f.print("  };");
    f.print("}");
    f.print();
  }
}

/** `.name` or `["odd name"]`. */
function access(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}
