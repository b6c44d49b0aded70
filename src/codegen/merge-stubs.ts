// Adds what is missing to user-owned stubs: case arms of new events, handler
// entries of new commands. ts-morph finds where; the edit is a plain text
// insertion, so every byte the user wrote (lines, comments, formatting) stays
// exactly as it was. Nothing is ever removed: stale entries are reported.
import { Node, Project, SyntaxKind, type ObjectLiteralExpression, type SourceFile } from "ts-morph";
import type { FileModel } from "./annotations.js";
import { fileStem } from "./names.js";
import { caseMapIdentifiers, handlerImport, handlerProperty, timelineCase, uiCase, type StubImports } from "./stub-templates.js";

/** What merging did to one stub. */
export interface MergeResult {
  /** The new text (identical to the input when nothing was missing). */
  readonly content: string;
  /** Names whose entry was added. */
  readonly added: readonly string[];
  /** Entries in the user's map with no matching name in the protos any more (left in place). */
  readonly stale: readonly string[];
  /** Set when the place to merge into was not found; the text is unchanged. */
  readonly problem?: string;
}

let sharedProject: Project | undefined;

function parse(text: string): SourceFile {
  // Parsing only: an in-memory project with no lib files or type checking.
  sharedProject ??= new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true });
  return sharedProject.createSourceFile(`/stub-${Math.random().toString(36).slice(2)}.ts`, text, { overwrite: true });
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
    if (!obj) {
      return { content: text, added: [], stale: [], problem: `no case map "${id}: ${typeName} = { ... }" found` };
    }
    const missing = model.events.filter((e) => !objectKeys(obj).has(e.name));
    const stale = [...objectKeys(obj)].filter((k) => !model.events.some((e) => e.name === k));
    const arms = missing.map((e) => (family === "ui" ? uiCase(e) : timelineCase(e)));
    return { content: insertIntoObject(text, obj, arms), added: missing.map((e) => e.name), stale };
  } finally {
    sharedProject?.removeSourceFile(sf);
  }
}

/**
 * Adds the handler of every command of `model` missing from the
 * `register<Stem>Handlers(hub, { ... })` call of the app module, with its import.
 */
export function mergeAppStub(text: string, model: FileModel, imports: StubImports): MergeResult {
  const sf = parse(text);
  try {
    const fn = `register${fileStem(model.file)}Handlers`;
    const call = sf
      .getDescendantsOfKind(SyntaxKind.CallExpression)
      .find((c) => c.getExpression().getText() === fn);
    const obj = call ? unwrapObject(call.getArguments()[1]) : undefined;
    if (!obj) {
      if (model.commands.length === 0) return { content: text, added: [], stale: [] };
      return { content: text, added: [], stale: [], problem: `no ${fn}(hub, { ... }) call found; register the handlers of ${model.file.name}.proto yourself` };
    }
    const keys = objectKeys(obj);
    const missing = model.commands.filter((c) => !keys.has(c.name));
    const stale = [...keys].filter((k) => !model.commands.some((c) => c.name === k));
    if (missing.length === 0) return { content: text, added: [], stale };
    // Insert the properties first (later in the text), then the imports, so positions stay valid.
    let out = insertIntoObject(text, obj, missing.map((c) => handlerProperty(c.name)));
    const imports_ = sf.getImportDeclarations();
    const at = imports_.length ? imports_[imports_.length - 1]!.getEnd() : 0;
    const lines = missing.map((c) => handlerImport(c.name, imports)).join("\n");
    out = imports_.length ? `${out.slice(0, at)}\n${lines}${out.slice(at)}` : `${lines}\n${out}`;
    return { content: out, added: missing.map((c) => c.name), stale };
  } finally {
    sharedProject?.removeSourceFile(sf);
  }
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
      keys.add(Node.isStringLiteral(nameNode) ? nameNode.getLiteralValue() : nameNode.getText());
    }
  }
  return keys;
}

/**
 * Inserts `entries` (each a full line or block, ending without a newline)
 * before the closing brace of `obj`, adding a comma after the last existing
 * entry when it has none. Nothing else in `text` changes.
 */
function insertIntoObject(text: string, obj: ObjectLiteralExpression, entries: readonly string[]): string {
  if (entries.length === 0) return text;
  const close = obj.getEnd() - 1;
  const props = obj.getProperties();
  let out = text;
  let shift = 0;
  if (props.length) {
    const lastEnd = props[props.length - 1]!.getEnd();
    if (!text.slice(lastEnd, close).includes(",")) {
      out = `${out.slice(0, lastEnd)},${out.slice(lastEnd)}`;
      shift = 1;
    }
  }
  const pos = close + shift;
  const before = out.slice(0, pos);
  const lineStart = before.lastIndexOf("\n") + 1;
  const block = entries.join("\n");
  if (/^[ \t]*$/.test(before.slice(lineStart))) {
    // The closing brace starts its line: put the entries on the lines just above it.
    return `${out.slice(0, lineStart)}${block}\n${out.slice(lineStart)}`;
  }
  return `${before}\n${block}\n${out.slice(pos)}`;
}
