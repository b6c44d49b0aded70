import type { ts } from "ts-morph";
import { REGISTRATION_METHODS } from "./prefilter.js";
import { typescript } from "./typescript-api.js";

/**
 * The module specifiers of a candidate file that its registration calls can
 * depend on, found syntactically so the program never loads the rest.
 *
 * Seeds are the top-level statements that contain a call of a registration
 * method. A statement joins when it mentions (as any identifier: a binding,
 * a type, a property name) a name that an included statement mentions, until
 * nothing changes; so the declarations, imports and assignments that can
 * decide a receiver's or a schema's type are in, through local consts,
 * functions, classes and renamed or namespace imports alike. Side-effect
 * imports and module or global augmentations are always in. An import is
 * needed when its specifier appears as a string in an included statement.
 *
 * Over-including is harmless (a file more is loaded); what is left out is
 * only what no included statement names. A candidate that another loaded
 * file imports is not pruned at all (see `vet-typescript.ts`), since its
 * exports can matter to that file.
 */
export function neededSpecifiers(sourceFile: ts.SourceFile): Set<string> {
  const statements = sourceFile.statements.map((statement) => describe(statement));
  const names = new Set<string>();
  const included = statements.map((s) => s.always || s.seed);
  for (const [i, s] of statements.entries()) if (included[i]) for (const n of s.identifiers) names.add(n);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [i, s] of statements.entries()) {
      if (included[i] || !intersects(s.identifiers, names)) continue;
      included[i] = true;
      changed = true;
      for (const n of s.identifiers) names.add(n);
    }
  }
  const specifiers = new Set<string>();
  for (const [i, s] of statements.entries()) if (included[i]) for (const text of s.strings) specifiers.add(text);
  return specifiers;
}

interface StatementFacts {
  readonly identifiers: Set<string>;
  readonly strings: Set<string>;
  /** Contains a call of a registration method. */
  readonly seed: boolean;
  /** A side-effect import or an augmentation: included whatever it names. */
  readonly always: boolean;
}

function describe(statement: ts.Statement): StatementFacts {
  const identifiers = new Set<string>();
  const strings = new Set<string>();
  let seed = false;
  const visit = (node: ts.Node): void => {
    if (typescript.isIdentifier(node)) identifiers.add(node.text);
    else if (typescript.isStringLiteralLike(node)) strings.add(node.text);
    else if (typescript.isCallExpression(node) && isRegistrationCall(node)) seed = true;
    typescript.forEachChild(node, visit);
  };
  visit(statement);
  const always =
    (typescript.isImportDeclaration(statement) && statement.importClause === undefined) ||
    (typescript.isModuleDeclaration(statement) && (typescript.isStringLiteral(statement.name) || statement.name.text === "global"));
  return { identifiers, strings, seed, always };
}

function isRegistrationCall(call: ts.CallExpression): boolean {
  const callee = call.expression;
  if (typescript.isPropertyAccessExpression(callee)) return REGISTRATION_METHODS.has(callee.name.text);
  if (typescript.isElementAccessExpression(callee) && typescript.isStringLiteralLike(callee.argumentExpression)) {
    return REGISTRATION_METHODS.has(callee.argumentExpression.text);
  }
  return false;
}

function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}
