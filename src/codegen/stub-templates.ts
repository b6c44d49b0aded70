// Text of the user-owned stubs: one handler per command, a UI and a timeline
// projection case map per proto file, and the app module. Written once; the
// merger (merge-stubs.ts) later adds only what is missing, using the same
// snippets (`handlerProperty`, `uiCase`, `timelineCase`).
import { AnnotationError, type AnnotationDiagnostic, type CommandModel, type EventModel, type FileModel } from "./annotations.js";
import { camelCase, fileStem, propertyKey, stubPaths } from "./names.js";
import { runHooksIdentifier, runHooksPath, runKinds, type RunKindModel } from "./run-kinds.js";

/** How a stub at `fromStub` (relative to the stubs dir) imports something. */
export interface StubImports {
  /** Specifier of the generated `_sessionstream` file of `file`, from the stub at `fromStub`. */
  generated(fromStub: string, model: FileModel): string;
  /** Specifier of the generated app-level file (`app_sessionstream`), from the stub at `fromStub`. */
  app(fromStub: string): string;
  /** Specifier of another stub (`toStub`, relative to the stubs dir) from `fromStub`. */
  stub(fromStub: string, toStub: string): string;
  /** The runtime module. Default `sessionstream`. */
  readonly runtime: string;
  /** How a stub's path reads in messages (e.g. `src/handlers/x.ts`, relative to the project root). */
  displayPath(stub: string): string;
}

/** A stub: its path relative to the stubs dir and its full text. */
export interface StubFile {
  readonly path: string;
  readonly content: string;
}

/** The exported identifier of a command's handler stub. */
export function handlerIdentifier(commandName: string): string {
  return camelCase(commandName);
}

/**
 * Identifiers the app module declares or imports besides the handlers: a
 * command whose handler identifier would be one of them (`Hub` -> `hub`,
 * `Registry`, `CreateApp`, `CreateAppRegistry`, `RegisterChatHandlers`) gets a `Handler`
 * suffix instead, so `app.ts` never shadows or redeclares its own names.
 * Keep in sync with {@link appStub} (a test parses the app module and checks).
 */
export function appIdentifiers(models: readonly FileModel[]): Set<string> {
  const ids = new Set(["Hub", "SchemaRegistry", "EventBus", "HubOptions", "HydrationStore", "RuntimeErrorReport", "UIFanout", "createAppRegistry", "registerAppRunKinds", "registry", "AppOptions", "createApp", "options", "hub", "report"]);
  for (const k of runKinds(models)) ids.add(runHooksIdentifier(k.kind));
  for (const m of models) {
    const stem = fileStem(m.file);
    const cases = caseMapIdentifiers(m);
    for (const id of [`register${stem}Schemas`, `register${stem}Handlers`, `${camelCase(stem)}UIProjection`, `${camelCase(stem)}TimelineProjection`, cases.ui, cases.timeline]) {
      ids.add(id);
    }
  }
  return ids;
}

/**
 * The exported identifier of every command's handler stub, keyed by command
 * name: {@link handlerIdentifier}, plus `Handler` when that would collide
 * with a name of the app module ({@link appIdentifiers}).
 */
export function handlerIdentifiers(models: readonly FileModel[]): Map<string, string> {
  const reserved = appIdentifiers(models);
  const out = new Map<string, string>();
  for (const m of models) {
    for (const c of m.commands) {
      const base = handlerIdentifier(c.name);
      out.set(c.name, reserved.has(base) ? `${base}Handler` : base);
    }
  }
  return out;
}

/**
 * Commands whose handler stubs would collide: the same file
 * (`AddTask` and `add_task` -> `handlers/add-task.ts`) or the same exported
 * identifier; and proto files whose projection stubs would share a file. One diagnostic per collision, at the later command, naming the
 * earlier one with its `file:line:col`. `display` shows a stub path and a
 * proto path the way the caller prints files (default: as they are).
 */
export function stubNameClashes(
  models: readonly FileModel[],
  display: { stub(path: string): string; proto(path: string): string } = { stub: (s) => s, proto: (p) => p },
): AnnotationDiagnostic[] {
  const ids = handlerIdentifiers(models);
  const byPath = new Map<string, CommandModel>();
  const byId = new Map<string, CommandModel>();
  const out: AnnotationDiagnostic[] = [];
  for (const m of models) {
    for (const c of m.commands) {
      const path = stubPaths.handler(c.name);
      const id = ids.get(c.name)!;
      const prev = byPath.get(path) ?? byId.get(id);
      if (prev) {
        const what = byPath.has(path) ? `the handler file ${display.stub(path)}` : `the handler identifier ${id}`;
        const where = `${display.proto(prev.at.file)}:${prev.at.line}:${prev.at.column}`;
        out.push({
          ...c.at,
          message: `command "${c.name}" and command "${prev.name}" (${where}) both map to ${what}; rename one of them (gen writes nothing until then)`,
        });
        continue;
      }
      byPath.set(path, c);
      byId.set(id, c);
    }
  }
  // Distinct stems can still share a kebab-case file name (`ABTest`, `AbTest` -> `ab-test`).
  const byProjection = new Map<string, FileModel>();
  for (const m of models) {
    if (!m.events.length) continue;
    const path = stubPaths.uiProjection(m.file);
    const prev = byProjection.get(path);
    if (prev) {
      out.push({
        file: `${m.file.name}.proto`,
        line: 1,
        column: 1,
        message: `this file and ${display.proto(`${prev.file.name}.proto`)} both map to the projection stubs ${display.stub(path)} and ${display.stub(stubPaths.timelineProjection(m.file))}; rename one of the files (gen writes nothing until then)`,
      });
      continue;
    }
    byProjection.set(path, m);
  }
  // Run kinds that share a hooks stub (`chat.answer`, `chat_answer` -> runs/chat-answer.ts, chatAnswerHooks).
  const byRunStub = new Map<string, RunKindModel>();
  for (const k of runKinds(models)) {
    const path = runHooksPath(k.kind);
    const prev = byRunStub.get(path);
    if (prev) {
      const at = k.startedBy[0]?.at ?? k.endedBy[0]!.at;
      const prevAt = prev.startedBy[0]?.at ?? prev.endedBy[0]!.at;
      out.push({
        ...at,
        message: `run kind "${k.kind}" and run kind "${prev.kind}" (${display.proto(prevAt.file)}:${prevAt.line}:${prevAt.column}) both map to the hooks stub ${display.stub(path)}; rename one of them (gen writes nothing until then)`,
      });
      continue;
    }
    byRunStub.set(path, k);
  }
  return out;
}

/** The exported identifiers of a file's projection case maps. */
export function caseMapIdentifiers(model: FileModel): { ui: string; timeline: string } {
  const base = camelCase(fileStem(model.file));
  return { ui: `${base}UICases`, timeline: `${base}TimelineCases` };
}

/** Every stub of `models`, in a stable order. */
export function stubFiles(models: readonly FileModel[], imports: StubImports): StubFile[] {
  const clashes = stubNameClashes(models);
  if (clashes.length) throw new AnnotationError(clashes);
  const ids = handlerIdentifiers(models);
  const kinds = new Map(runKinds(models).map((k) => [k.kind, k]));
  const out: StubFile[] = [];
  for (const model of models) {
    for (const c of model.commands) {
      const run = c.startsRun === undefined ? undefined : kinds.get(c.startsRun);
      out.push(handlerStub(model, c.name, imports, ids.get(c.name), run));
    }
    if (model.events.length) {
      out.push(projectionStub(model, "ui", imports));
      out.push(projectionStub(model, "timeline", imports));
    }
  }
  for (const k of kinds.values()) out.push(runHooksStub(k, imports));
  out.push(appStub(models, imports));
  return out;
}

/**
 * The handler stub of one command: compiles, and throws `not_implemented`
 * naming the file to edit. With `run` (the command's `starts_run`), it starts
 * a run of that kind and returns at once; the run's work throws instead.
 */
export function handlerStub(
  model: FileModel,
  commandName: string,
  imports: StubImports,
  identifier = handlerIdentifier(commandName),
  run?: RunKindModel,
): StubFile {
  const path = stubPaths.handler(commandName);
  const stem = fileStem(model.file);
  if (run) return { path, content: runHandlerStub(model, commandName, imports, identifier, run) };
  const content = [
    `import { SessionstreamError } from ${JSON.stringify(imports.runtime)};`,
    `import type { ${stem}CommandHandler } from ${JSON.stringify(imports.generated(path, model))};`,
    ``,
    `/**`,
    ` * Handles the command "${commandName}". Publish backend events with`,
    ` * \`await publisher.publish("EventName", { ... })\`; never return UI state.`,
    ` * This file is yours: \`sessionstream gen\` never rewrites it.`,
    ` */`,
    `export const ${identifier}: ${stem}CommandHandler<${JSON.stringify(commandName)}> = async (command, session, publisher) => {`,
    `  throw new SessionstreamError("not_implemented", ${JSON.stringify(`not implemented: edit ${imports.displayPath(path)}`)});`,
    `};`,
    ``,
  ].join("\n");
  return { path, content };
}

/** The terminal events of a run kind, as a stub comment lists them. */
function terminalList(run: RunKindModel): string {
  return [...new Set(run.endedBy.map((e) => e.name))].join(", ");
}

function runHandlerStub(model: FileModel, commandName: string, imports: StubImports, identifier: string, run: RunKindModel): string {
  const path = stubPaths.handler(commandName);
  const stem = fileStem(model.file);
  const terminal = run.endedBy.length ? ` (${terminalList(run)})` : "";
  return [
    `import { SessionstreamError } from ${JSON.stringify(imports.runtime)};`,
    `import type { ${stem}CommandHandler, ${stem}RunKind } from ${JSON.stringify(imports.generated(path, model))};`,
    ``,
    `/**`,
    ` * Handles the command "${commandName}": starts a run of kind "${run.kind}" and returns at`,
    ` * once (a client going away never stops a run; \`publisher.stopRun(runId)\` does). The work`,
    ` * publishes the run's progress; the hooks in ${imports.displayPath(runHooksPath(run.kind))} publish`,
    ` * its terminal events${terminal}.`,
    ` * This file is yours: \`sessionstream gen\` never rewrites it.`,
    ` */`,
    `export const ${identifier}: ${stem}CommandHandler<${JSON.stringify(commandName)}> = async (command, session, publisher) => {`,
    `  // TODO: publish what the UI shows at once, e.g. \`await publisher.publish("EventName", { ... })\`.`,
    `  // \`data\` is recorded with the run and handed to its hooks (e.g. { messageId }).`,
    `  await publisher.startRun({ kind: ${JSON.stringify(run.kind)} satisfies ${stem}RunKind, data: {} }, async ({ signal, publish }) => {`,
    `    // TODO: the work. Publish progress with \`await publish("EventName", { ... })\` and pass`,
    `    // \`signal\` to whatever can be cancelled. Resolving ends the run "finished", throwing "failed".`,
    `    throw new SessionstreamError("not_implemented", ${JSON.stringify(`not implemented: edit ${imports.displayPath(path)}`)});`,
    `  });`,
    `};`,
    ``,
  ].join("\n");
}

/** The terminal event a hook's stub suggests: the one whose name fits the hook's state, else the first. */
function suggestedEvent(run: RunKindModel, state: "finished" | "stopped" | "failed" | "interrupted"): string {
  const fits: Record<typeof state, RegExp[]> = {
    finished: [/finish|done|complet|succe/i],
    stopped: [/stop|cancel|abort/i],
    failed: [/fail|error/i],
    interrupted: [/interrupt/i, /stop|cancel|abort/i],
  };
  const names = [...new Set(run.endedBy.map((e) => e.name))];
  for (const re of fits[state]) {
    const hit = names.find((n) => re.test(n));
    if (hit) return hit;
  }
  return names[0] ?? "EventName";
}

/**
 * The hooks stub of one run kind: an `AppRunKindHooks` with the four hooks,
 * each a TODO that names the kind's terminal events (`ends_runs`) and
 * suggests the one that fits its state.
 */
export function runHooksStub(run: RunKindModel, imports: StubImports): StubFile {
  const path = runHooksPath(run.kind);
  const terminal = terminalList(run);
  const started = run.startedBy.length
    ? `Started by ${[...new Set(run.startedBy.map((c) => c.name))].join(", ")}.`
    : "No command starts it (starts_run): start its runs with hub.startRun.";
  const hook = (state: "finished" | "stopped" | "failed" | "interrupted", params: string, when: string) => [
    `  async ${state}(${params}) {`,
    `    // TODO: ${when}. Publish ${terminal ? "its terminal event" : "the event that ends it"}, e.g.`,
    `    // await publisher.publish(${JSON.stringify(suggestedEvent(run, state))}, { ... });`,
    `  },`,
  ];
  const content = [
    `import type { AppRunKindHooks } from ${JSON.stringify(imports.app(path))};`,
    ``,
    `/**`,
    ` * How runs of kind "${run.kind}" end. ${started}`,
    ` * The runtime calls exactly one hook, once, per run; each publishes the run's terminal events,`,
    ` * so that no run is left looking alive after a stop, a failure or a crash. \`run.data\` is what`,
    ` * \`startRun\` recorded; any event of the app may be published.`,
    terminal
      ? ` * Terminal events (ends_runs: ${JSON.stringify(run.kind)}): ${terminal}.`
      : ` * No event declares ends_runs: ${JSON.stringify(run.kind)} yet: add it to the event that ends these runs.`,
    ` * This file is yours: \`sessionstream gen\` never rewrites it.`,
    ` */`,
    `export const ${runHooksIdentifier(run.kind)}: AppRunKindHooks = {`,
    ...hook("finished", "run, publisher, result", "the work resolved (with `result`)"),
    ...hook("stopped", "run, publisher", "the run was stopped (stopRun, stopRuns)"),
    ...hook("failed", "run, publisher, error", "the work threw `error`"),
    ...hook("interrupted", "run, publisher", "the run's process died or shut down mid-run (crash, deploy, `dev` reload)"),
    `};`,
    ``,
  ].join("\n");
  return { path, content };
}

/** One property of the `registerAppRunKinds(hub, { ... })` call in the app module. */
export function runKindProperty(kind: string, local = runHooksIdentifier(kind)): string {
  return `    ${propertyKey(kind)}: ${local},`;
}

/** The import line of a run kind's hooks stub in the app module. */
export function runHooksImport(kind: string, imports: StubImports, local = runHooksIdentifier(kind)): string {
  const id = runHooksIdentifier(kind);
  const binding = local === id ? id : `${id} as ${local}`;
  return `import { ${binding} } from ${JSON.stringify(imports.stub(stubPaths.app, runHooksPath(kind)))};`;
}

/** The `registerAppRunKinds(hub, { ... });` statement of the app module, indented for `createApp`. */
export function registerRunKindsCall(kinds: readonly RunKindModel[], local: (kind: string) => string = runHooksIdentifier): string[] {
  return [`  registerAppRunKinds(hub, {`, ...kinds.map((k) => runKindProperty(k.kind, local(k.kind))), `  });`];
}

/** One case arm of a UI projection case map, indented for the object literal. */
export function uiCase(event: EventModel): string {
  const may = event.uiEvents.length ? `May emit: ${event.uiEvents.join(", ")}.` : "Declares no UI events: return [] or set this case to null.";
  return [
    `  ${propertyKey(event.name)}(event, session, view) {`,
    `    // ${may}`,
    `    return [];`,
    `  },`,
  ].join("\n");
}

/** One case arm of a timeline projection case map. */
export function timelineCase(event: EventModel): string {
  const may = event.entities.length
    ? `May emit: ${event.entities.join(", ")} (upsert, or { kind, id, tombstone: true } to remove).`
    : "Declares no timeline entities: return [] or set this case to null.";
  return [
    `  ${propertyKey(event.name)}(event, session, view) {`,
    `    // ${may}`,
    `    return [];`,
    `  },`,
  ].join("\n");
}

/** The UI or timeline projection case map of one proto file. */
export function projectionStub(model: FileModel, family: "ui" | "timeline", imports: StubImports): StubFile {
  const path = family === "ui" ? stubPaths.uiProjection(model.file) : stubPaths.timelineProjection(model.file);
  const stem = fileStem(model.file);
  const type = family === "ui" ? `${stem}UIProjectionCases` : `${stem}TimelineProjectionCases`;
  const id = caseMapIdentifiers(model)[family];
  const what = family === "ui" ? "live UI events" : "durable timeline entities";
  const content = [
    `import type { ${type} } from ${JSON.stringify(imports.generated(path, model))};`,
    ``,
    `/**`,
    ` * ${family === "ui" ? "UI" : "Timeline"} projection of ${model.file.name}.proto: one case per event, returning the ${what}`,
    ` * its annotation declares. \`null\` ignores an event. This file is yours: \`sessionstream gen\``,
    ` * only adds the cases of new events and never changes the ones you wrote.`,
    ` */`,
    `export const ${id}: ${type} = {`,
    ...model.events.map((e) => (family === "ui" ? uiCase(e) : timelineCase(e))),
    `};`,
    ``,
  ].join("\n");
  return { path, content };
}

/** One property of the `register<Stem>Handlers(hub, { ... })` call in the app module; `local` is the handler's name there. */
export function handlerProperty(commandName: string, local = handlerIdentifier(commandName)): string {
  return `    ${propertyKey(commandName)}: ${local},`;
}

/** The import line of a handler stub in the app module: `identifier` is its export, `local` the name it gets (default the same). */
export function handlerImport(commandName: string, imports: StubImports, identifier = handlerIdentifier(commandName), local = identifier): string {
  const binding = local === identifier ? identifier : `${identifier} as ${local}`;
  return `import { ${binding} } from ${JSON.stringify(imports.stub(stubPaths.app, stubPaths.handler(commandName)))};`;
}

/**
 * The app module: `createApp(options?)` returns a hub with every schema,
 * handler and projection wired; also the default export (what `dev` loads).
 */
export function appStub(models: readonly FileModel[], imports: StubImports): StubFile {
  const path = stubPaths.app;
  const lines: string[] = [
    `import { Hub, SchemaRegistry, type EventBus, type HubOptions, type HydrationStore, type RuntimeErrorReport, type UIFanout } from ${JSON.stringify(imports.runtime)};`,
  ];
  const kinds = runKinds(models);
  const appNames = kinds.length ? "createAppRegistry, registerAppRunKinds" : "createAppRegistry";
  lines.push(`import { ${appNames} } from ${JSON.stringify(imports.app(path))};`);
  for (const m of models) {
    const stem = fileStem(m.file);
    const names: string[] = [];
    if (m.commands.length) names.push(`register${stem}Handlers`);
    if (m.events.length) names.push(`${camelCase(stem)}UIProjection`, `${camelCase(stem)}TimelineProjection`);
    if (names.length) lines.push(`import { ${names.join(", ")} } from ${JSON.stringify(imports.generated(path, m))};`);
  }
  for (const m of models) {
    if (m.events.length) {
      const ids = caseMapIdentifiers(m);
      lines.push(`import { ${ids.ui} } from ${JSON.stringify(imports.stub(path, stubPaths.uiProjection(m.file)))};`);
      lines.push(`import { ${ids.timeline} } from ${JSON.stringify(imports.stub(path, stubPaths.timelineProjection(m.file)))};`);
    }
  }
  const handlerIds = handlerIdentifiers(models);
  for (const m of models) for (const c of m.commands) lines.push(handlerImport(c.name, imports, handlerIds.get(c.name)));
  for (const k of kinds) lines.push(runHooksImport(k.kind, imports));
  lines.push(
    ``,
    `/** Every logical name of the app (commands, events, UI events, timeline entities), from every proto file. */`,
    `export const registry = createAppRegistry();`,
    ``,
    `/** What \`sessionstream dev\`, \`sessionstream start\` and tests may pass to {@link createApp}. */`,
    `export interface AppOptions {`,
    `  /** Default: in-memory. \`dev\` and \`start\` pass the store of \`--store\` (SQLite under .sessionstream/ by default). */`,
    `  readonly store?: HydrationStore;`,
    `  /** Default: in-process. \`dev\` and \`start\` pass the Redis Streams bus of \`--bus\` when several nodes share the sessions. */`,
    `  readonly bus?: EventBus;`,
    `  /** Receives runtime errors (\`start\` writes them as JSON log lines). Default: \`console.error\`. */`,
    `  readonly onError?: (report: RuntimeErrorReport) => void;`,
    `  /** Receives live UI events (\`dev\` passes its websocket server). */`,
    `  readonly fanout?: UIFanout;`,
    `  /** Any other hub option (error policy, session metadata, ...). */`,
    `  readonly hubOptions?: Partial<Omit<HubOptions<typeof registry extends SchemaRegistry<infer S> ? S : never>, "registry" | "store" | "fanout" | "bus" | "onError">>;`,
    `}`,
    ``,
    `/**`,
    ` * Builds the app's hub with every schema, command handler and projection wired.`,
    kinds.length
      ? ` * This file is yours; \`sessionstream gen\` only adds the handlers of new commands and the hooks of new run kinds.`
      : ` * This file is yours; \`sessionstream gen\` only adds the handlers of new commands.`,
    ` */`,
    `export function createApp(options: AppOptions = {}) {`,
    `  const hub = new Hub({`,
    `    registry,`,
    `    ...options.hubOptions,`,
    `    ...(options.store ? { store: options.store } : {}),`,
    `    ...(options.fanout ? { fanout: options.fanout } : {}),`,
    `    ...(options.bus ? { bus: options.bus } : {}),`,
    `    ...(options.onError ? { onError: options.onError } : {}),`,
    `  });`,
  );
  for (const m of models) {
    const stem = fileStem(m.file);
    if (m.commands.length) {
      lines.push(`  register${stem}Handlers(hub, {`, ...m.commands.map((c) => handlerProperty(c.name, handlerIds.get(c.name))), `  });`);
    }
    if (m.events.length) {
      const ids = caseMapIdentifiers(m);
      lines.push(`  hub.registerUIProjection(${camelCase(stem)}UIProjection(${ids.ui}));`);
      lines.push(`  hub.registerTimelineProjection(${camelCase(stem)}TimelineProjection(${ids.timeline}));`);
    }
  }
  if (kinds.length) lines.push(...registerRunKindsCall(kinds));
  lines.push(`  return hub;`, `}`, ``, `export default createApp;`, ``);
  return { path, content: lines.join("\n") };
}
