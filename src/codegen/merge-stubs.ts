// Adds what is missing to user-owned stubs: case arms of new events, handler
// entries of new commands. ts-morph finds where; each edit is a plain text
// insertion, so every byte the user wrote (lines, comments, formatting) stays
// exactly as it was. Commas come from the syntax tree (never from the raw
// text, where a comment may hold one); new lines follow the file's line
// endings and indentation. The merged text is parsed again: when it would not
// parse, the input comes back unchanged with an error and what to add by hand.
// Nothing is ever removed: stale entries are reported.
import { Node, Project, SyntaxKind, ts, type Identifier, type ObjectLiteralExpression, type SourceFile } from "ts-morph";
import type { FileModel } from "./annotations.js";
import { fileStem, propertyKey, stubPaths } from "./names.js";
import { runHooksIdentifier, runHooksPath, type RunKindModel } from "./run-kinds.js";
import {
  caseMapIdentifiers,
  handlerIdentifier,
  handlerImport,
  handlerProperty,
  registerRunKindsCall,
  runHooksImport,
  runKindProperty,
  timelineCase,
  uiCase,
  type StubImports,
} from "./stub-templates.js";

/** What merging did to one stub. */
export interface MergeResult {
  /** The new text (identical to the input when nothing was missing, or on `error`). */
  readonly content: string;
  /** Names whose entry was added. */
  readonly added: readonly string[];
  /** Entries in the user's map with no matching name in the protos any more (left in place). */
  readonly stale: readonly string[];
  /** Set when the place to merge into was not found; the text is unchanged (a warning). */
  readonly problem?: string;
  /**
   * Set when merging would leave a file that does not parse (or the file does
   * not parse already): `content` is the input, unchanged, and `manual` lists
   * what to add by hand. `gen` writes nothing to the file and exits non-zero.
   */
  readonly error?: string;
  /** With `error`: the lines to add by hand, each saying where. */
  readonly manual?: readonly string[];
}

/** Options of {@link mergeAppStub}. */
export interface AppMergeOptions {
  /** The exported identifier of each command's handler stub. Default: {@link handlerIdentifier} of the command name. */
  readonly handlerIdentifiers?: ReadonlyMap<string, string>;
}

let sharedProject: Project | undefined;

function parse(text: string): SourceFile {
  // Parsing only: an in-memory project with no lib files or type checking.
  sharedProject ??= new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true });
  return sharedProject.createSourceFile(`/stub-${Math.random().toString(36).slice(2)}.ts`, text, { overwrite: true });
}

/** The first syntax error of `text` as `line:col: message`, or undefined when it parses. */
export function syntaxError(text: string): string | undefined {
  const out = ts.transpileModule(text, {
    fileName: "stub.ts",
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  });
  const d = out.diagnostics?.find((x) => x.category === ts.DiagnosticCategory.Error && x.start !== undefined);
  if (!d) return undefined;
  const before = text.slice(0, d.start);
  const line = before.split("\n").length;
  const column = d.start! - (before.lastIndexOf("\n") + 1) + 1;
  return `${line}:${column}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
}

/** Adds the case arm of every event of `model` missing from the UI or timeline case map in `text`. */
export function mergeProjectionStub(text: string, model: FileModel, family: "ui" | "timeline"): MergeResult {
  const sf = parse(text);
  try {
    const id = caseMapIdentifiers(model)[family];
    const typeName = `${fileStem(model.file)}${family === "ui" ? "UI" : "Timeline"}ProjectionCases`;
    const decl =
      sf.getVariableDeclaration(id) ??
      sf.getVariableDeclarations().find((d) => d.getTypeNode()?.getText().includes(typeName));
    const obj = decl ? unwrapObject(decl.getInitializer()) : undefined;
    const arm = (e: FileModel["events"][number]) => (family === "ui" ? uiCase(e) : timelineCase(e));
    if (!obj) {
      const broken = syntaxError(text);
      if (broken && model.events.length) {
        return refuse(text, `does not parse (${broken})`, [`the case map "export const ${id}: ${typeName} = { ... }" with one case per event:`, ...model.events.map(arm)]);
      }
      return { content: text, added: [], stale: [], problem: `no case map "${id}: ${typeName} = { ... }" found` };
    }
    const keys = objectKeys(obj);
    const missing = model.events.filter((e) => !keys.has(e.name));
    const stale = [...keys].filter((k) => !model.events.some((e) => e.name === k));
    if (missing.length === 0) return { content: text, added: [], stale };
    const arms = missing.map(arm);
    const merged = applyEdits(text, insertIntoObject(text, obj, arms));
    const manual = [`in the case map ${id} (line ${obj.getStartLineNumber()}), before its closing brace:`, ...arms];
    return checked(text, merged, { content: merged, added: missing.map((e) => e.name), stale }, manual);
  } finally {
    sharedProject?.removeSourceFile(sf);
  }
}

/**
 * Adds the handler of every command of `model` missing from the
 * `register<Stem>Handlers(hub, { ... })` call of the app module, with its
 * import. A handler module the file already imports is reused under its local
 * name; a handler identifier the file already uses for something else is
 * imported under an alias (`import { hub as hubHandler }`).
 */
export function mergeAppStub(text: string, model: FileModel, imports: StubImports, options: AppMergeOptions = {}): MergeResult {
  const sf = parse(text);
  try {
    const fn = `register${fileStem(model.file)}Handlers`;
    const call = sf
      .getDescendantsOfKind(SyntaxKind.CallExpression)
      .find((c) => c.getExpression().getText() === fn);
    const obj = call ? unwrapObject(call.getArguments()[1]) : undefined;
    const exported = (name: string) => options.handlerIdentifiers?.get(name) ?? handlerIdentifier(name);
    if (!obj) {
      if (model.commands.length === 0) return { content: text, added: [], stale: [] };
      const broken = syntaxError(text);
      if (broken) {
        return refuse(text, `does not parse (${broken})`, [
          `in createApp: ${fn}(hub, { ${model.commands.map((c) => `${propertyKey(c.name)}: ${exported(c.name)}`).join(", ")} });`,
          ...model.commands.map((c) => handlerImport(c.name, imports, exported(c.name))),
        ]);
      }
      return { content: text, added: [], stale: [], problem: `no ${fn}(hub, { ... }) call found; register the handlers of ${model.file.name}.proto yourself` };
    }
    const keys = objectKeys(obj);
    const missing = model.commands.filter((c) => !keys.has(c.name));
    const stale = [...keys].filter((k) => !model.commands.some((c) => c.name === k));
    if (missing.length === 0) return { content: text, added: [], stale };

    const used = boundNames(sf);
    const importLines: string[] = [];
    const properties: string[] = [];
    for (const c of missing) {
      const id = exported(c.name);
      const specifier = imports.stub(stubPaths.app, stubPaths.handler(c.name));
      let local = importedAs(sf, specifier, id);
      if (local === undefined) {
        local = id;
        for (let n = 1; used.has(local); n++) local = `${id}Handler${n === 1 ? "" : n}`;
        used.add(local);
        importLines.push(handlerImport(c.name, imports, id, local));
      }
      properties.push(handlerProperty(c.name, local));
    }
    const eol = lineEnding(text);
    const edits = insertIntoObject(text, obj, properties);
    if (importLines.length) edits.push(importEdit(text, sf, importLines, eol));
    const merged = applyEdits(text, edits);
    const manual = [
      ...importLines.map((l) => `at the top: ${l}`),
      ...properties.map((p) => `in ${fn}(hub, { ... }) (line ${obj.getStartLineNumber()}): ${p.trim()}`),
    ];
    return checked(text, merged, { content: merged, added: missing.map((c) => c.name), stale }, manual);
  } finally {
    sharedProject?.removeSourceFile(sf);
  }
}

/**
 * Adds the hooks of every run kind missing from the
 * `registerAppRunKinds(hub, { ... })` call of the app module, with their
 * imports. An app module without that call (written before the protos had
 * runs) gets the call before the `return` of `createApp`, and the import of
 * `registerAppRunKinds`; without a `createApp` that returns, it is a problem
 * (a warning naming what to add).
 */
export function mergeAppRunKinds(text: string, kinds: readonly RunKindModel[], imports: StubImports): MergeResult {
  if (kinds.length === 0 && !text.includes("registerAppRunKinds")) return { content: text, added: [], stale: [] };
  const sf = parse(text);
  try {
    const call = sf.getDescendantsOfKind(SyntaxKind.CallExpression).find((c) => c.getExpression().getText() === "registerAppRunKinds");
    const obj = call ? unwrapObject(call.getArguments()[1]) : undefined;
    const keys = obj ? objectKeys(obj) : new Set<string>();
    const missing = kinds.filter((k) => !keys.has(k.kind));
    const stale = [...keys].filter((k) => !kinds.some((r) => r.kind === k));
    if (missing.length === 0) return { content: text, added: [], stale };
    const broken = syntaxError(text);
    const manualCall = registerRunKindsCall(kinds).map((l) => l.trim()).join(" ");
    if (broken) {
      return refuse(text, `does not parse (${broken})`, [`in createApp: ${manualCall}`, ...kinds.map((k) => runHooksImport(k.kind, imports))]);
    }
    if (call && !obj) {
      return { content: text, added: [], stale, problem: `the registerAppRunKinds call has no object literal of hooks; add ${missing.map((k) => `${JSON.stringify(k.kind)}: ${runHooksIdentifier(k.kind)}`).join(", ")} yourself` };
    }

    const used = boundNames(sf);
    const importLines: string[] = [];
    const locals = new Map<string, string>();
    for (const k of missing) {
      const id = runHooksIdentifier(k.kind);
      const specifier = imports.stub(stubPaths.app, runHooksPath(k.kind));
      let local = importedAs(sf, specifier, id);
      if (local === undefined) {
        local = id;
        for (let n = 1; used.has(local); n++) local = `${id}${n}`;
        used.add(local);
        importLines.push(runHooksImport(k.kind, imports, local));
      }
      locals.set(k.kind, local);
    }
    const eol = lineEnding(text);
    const edits: Edit[] = [];
    let manual: string[];
    if (obj) {
      const properties = missing.map((k) => runKindProperty(k.kind, locals.get(k.kind)));
      edits.push(...insertIntoObject(text, obj, properties));
      manual = [
        ...importLines.map((l) => `at the top: ${l}`),
        ...properties.map((p) => `in registerAppRunKinds(hub, { ... }) (line ${obj.getStartLineNumber()}): ${p.trim()}`),
      ];
    } else {
      const ret = createAppReturn(sf);
      if (!ret) {
        return {
          content: text,
          added: [],
          stale,
          problem: `no registerAppRunKinds(hub, { ... }) call and no createApp returning the hub found; register the run kinds yourself: ${manualCall}`,
        };
      }
      const at = lineStart(text, ret.getStart());
      const indent = indentOf(text, ret.getStart());
      const unit = indent.includes("\t") ? "\t" : "  ";
      const block = reindent(registerRunKindsCall(missing, (kind) => locals.get(kind) ?? runHooksIdentifier(kind)).join("\n"), indent, unit, eol);
      edits.push({ start: at, end: at, text: `${block}${eol}` });
      if (!used.has("registerAppRunKinds")) {
        importLines.unshift(`import { registerAppRunKinds } from ${JSON.stringify(imports.app(stubPaths.app))};`);
      }
      manual = [...importLines.map((l) => `at the top: ${l}`), `in createApp, before \`return hub;\`: ${manualCall}`];
    }
    if (importLines.length) edits.push(importEdit(text, sf, importLines, eol));
    const merged = applyEdits(text, edits);
    return checked(text, merged, { content: merged, added: missing.map((k) => k.kind), stale }, manual);
  } finally {
    sharedProject?.removeSourceFile(sf);
  }
}

/** The `return` statement directly in the body of `createApp` (a function declaration or a const arrow/function). */
function createAppReturn(sf: SourceFile): Node | undefined {
  const fn = sf.getFunction("createApp");
  let body: Node | undefined = fn?.getBody();
  if (!body) {
    const init = sf.getVariableDeclaration("createApp")?.getInitializer();
    if (init && (Node.isArrowFunction(init) || Node.isFunctionExpression(init))) body = init.getBody();
  }
  if (!body || !Node.isBlock(body)) return undefined;
  return body.getStatements().find((st) => Node.isReturnStatement(st));
}

/** `result` when `merged` parses; otherwise the input unchanged with an error and the manual steps. */
function checked(text: string, merged: string, result: MergeResult, manual: readonly string[]): MergeResult {
  const after = syntaxError(merged);
  if (after === undefined) return result;
  const before = syntaxError(text);
  const why = before ? `does not parse (${before})` : `would not parse after adding ${result.added.join(", ")} (${after})`;
  return { ...refuse(text, why, manual), stale: result.stale };
}

function refuse(text: string, why: string, manual: readonly string[]): MergeResult {
  return { content: text, added: [], stale: [], error: `${why}; gen left it unchanged`, manual };
}

function unwrapObject(node: Node | undefined): ObjectLiteralExpression | undefined {
  let n = node;
  while (n && (Node.isSatisfiesExpression(n) || Node.isAsExpression(n) || Node.isParenthesizedExpression(n))) {
    n = n.getExpression();
  }
  return n && Node.isObjectLiteralExpression(n) ? n : undefined;
}

function objectKeys(obj: ObjectLiteralExpression): Set<string> {
  const keys = new Set<string>();
  for (const p of obj.getProperties()) {
    if (Node.isPropertyAssignment(p) || Node.isMethodDeclaration(p) || Node.isShorthandPropertyAssignment(p)) {
      const nameNode = p.getNameNode();
      if (Node.isComputedPropertyName(nameNode)) {
        // `[ChatEventNames.ChatInferenceStarted]` or `["ChatInferenceStarted"]`.
        const e = nameNode.getExpression();
        if (Node.isStringLiteral(e) || Node.isNoSubstitutionTemplateLiteral(e)) keys.add(e.getLiteralValue());
        else if (Node.isPropertyAccessExpression(e)) keys.add(e.getName());
        continue;
      }
      keys.add(Node.isStringLiteral(nameNode) || Node.isNumericLiteral(nameNode) ? String(nameNode.getLiteralValue()) : nameNode.getText());
    }
  }
  return keys;
}

/** Every identifier the file binds or refers to (property names excluded): a new import must not reuse one. */
function boundNames(sf: SourceFile): Set<string> {
  const names = new Set<string>();
  for (const id of sf.getDescendantsOfKind(SyntaxKind.Identifier)) {
    if (!isPropertyNameOnly(id)) names.add(id.getText());
  }
  return names;
}

function isPropertyNameOnly(id: Identifier): boolean {
  const parent = id.getParent();
  if (Node.isPropertyAccessExpression(parent)) return parent.getNameNode() === id;
  if (
    Node.isPropertyAssignment(parent) ||
    Node.isMethodDeclaration(parent) ||
    Node.isPropertySignature(parent) ||
    Node.isPropertyDeclaration(parent) ||
    Node.isMethodSignature(parent) ||
    Node.isGetAccessorDeclaration(parent) ||
    Node.isSetAccessorDeclaration(parent)
  ) {
    return parent.getNameNode() === id;
  }
  return false;
}

/** The local name under which `sf` already imports `name` from `specifier`, if it does. */
function importedAs(sf: SourceFile, specifier: string, name: string): string | undefined {
  for (const decl of sf.getImportDeclarations()) {
    if (decl.getModuleSpecifierValue() !== specifier || decl.isTypeOnly()) continue;
    for (const spec of decl.getNamedImports()) {
      if (spec.getName() === name && !spec.isTypeOnly()) return spec.getAliasNode()?.getText() ?? name;
    }
  }
  return undefined;
}

/** A text edit: replace `[start, end)` of the input with `text`. */
interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Applies non-overlapping edits; edits at the same position apply in list order. */
function applyEdits(text: string, edits: readonly Edit[]): string {
  const sorted = edits.map((e, i) => ({ e, i })).sort((a, b) => a.e.start - b.e.start || a.i - b.i);
  let out = "";
  let at = 0;
  for (const { e } of sorted) {
    out += text.slice(at, e.start) + e.text;
    at = Math.max(at, e.end);
  }
  return out + text.slice(at);
}

/** The file's line ending: CRLF when most lines end with it. */
function lineEnding(text: string): string {
  const crlf = text.split("\r\n").length - 1;
  const lf = text.split("\n").length - 1 - crlf;
  return crlf > lf ? "\r\n" : "\n";
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf("\n", pos - 1) + 1;
}

function indentOf(text: string, pos: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart(text, pos)))![0];
}

function startsLine(text: string, pos: number): boolean {
  return /^[ \t]*$/.test(text.slice(lineStart(text, pos), pos));
}

/**
 * Re-indents a template snippet (2-space indented, any base) to `base` plus
 * one `unit` per template level, joined with `eol`.
 */
function reindent(snippet: string, base: string, unit: string, eol: string): string {
  const lines = snippet.split("\n");
  const depth = (l: string) => /^ */.exec(l)![0].length;
  const min = Math.min(...lines.filter((l) => l.trim() !== "").map(depth));
  return lines
    .map((l) => {
      if (l.trim() === "") return "";
      const extra = depth(l) - min;
      return base + unit.repeat(Math.floor(extra / 2)) + " ".repeat(extra % 2) + l.trimStart();
    })
    .join(eol);
}

/**
 * The edits that add `entries` (template snippets, each ending with a comma)
 * as the last members of `obj`: a comma after the last member when the
 * syntax tree says it has none, then the entries before the closing brace, in
 * the object's own layout (inline for a one-line object of one-line entries,
 * else one per line, indented like the members around them). A closing brace
 * that shares its line with other code moves to a line of its own.
 */
function insertIntoObject(text: string, obj: ObjectLiteralExpression, entries: readonly string[]): Edit[] {
  if (entries.length === 0) return [];
  const edits: Edit[] = [];
  const open = obj.getStart();
  const close = obj.getEnd() - 1;
  const props = obj.getProperties();
  const trailingComma = obj.compilerNode.properties.hasTrailingComma === true;
  if (props.length && !trailingComma) {
    const lastEnd = props[props.length - 1]!.getEnd();
    edits.push({ start: lastEnd, end: lastEnd, text: "," });
  }
  // The end of whatever precedes the closing brace (a member, a comma, a comment).
  let content = close;
  while (content > open + 1 && /\s/.test(text[content - 1]!)) content--;

  const oneLine = !text.slice(open, close).includes("\n");
  if (oneLine && entries.every((e) => !e.includes("\n"))) {
    const inline = entries.map((e) => e.trim().replace(/,$/, "")).join(", ");
    const pad = content === close ? " " : ""; // `{}` -> `{ a: a }`
    edits.push({ start: content, end: content, text: ` ${inline}${trailingComma ? "," : ""}${pad}` });
    return edits;
  }

  const eol = lineEnding(text);
  const openIndent = indentOf(text, open);
  const aligned = [...props].reverse().find((p) => startsLine(text, p.getStart()));
  const fileUsesTabs = /^\t/m.test(text) && !/^ {2}\S/m.test(text);
  let base = aligned ? indentOf(text, aligned.getStart()) : undefined;
  let unit = base !== undefined && base.startsWith(openIndent) && base.length > openIndent.length ? base.slice(openIndent.length) : fileUsesTabs ? "\t" : "  ";
  if (unit.includes("\t")) unit = "\t";
  base ??= openIndent + unit;
  const block = entries.map((e) => reindent(e, base, unit, eol)).join(eol);
  if (startsLine(text, close)) {
    const at = lineStart(text, close);
    edits.push({ start: at, end: at, text: `${block}${eol}` });
  } else {
    // `{ a: 1 }` or `  a: 1 };`: the entries go on lines of their own, the brace on the next.
    edits.push({ start: content, end: close, text: `${eol}${block}${eol}${openIndent}` });
  }
  return edits;
}

/** Adds `lines` after the last import (after a comment sharing its line), or at the top. */
function importEdit(text: string, sf: SourceFile, lines: readonly string[], eol: string): Edit {
  const all = sf.getImportDeclarations();
  const last = all[all.length - 1];
  if (last) {
    const at = Math.max(last.getEnd(), ...last.getTrailingCommentRanges().map((r) => r.getEnd()));
    return { start: at, end: at, text: `${eol}${lines.join(eol)}` };
  }
  const at = text.startsWith("#!") ? text.indexOf("\n") + 1 : 0;
  return { start: at, end: at, text: `${lines.join(eol)}${eol}` };
}
