import { ts } from "ts-morph";
import type { Finding } from "../diagnostic.js";
import { UNTYPED_MESSAGE_TYPES } from "../../runtime/registry.js";
import type { PackageResolver } from "./package-identity.js";
import { REGISTRATION_METHODS } from "./prefilter.js";

const FAMILY_OF: Record<string, string> = {
  registerCommand: "command",
  registerEvent: "event",
  registerUIEvent: "UI event",
  registerTimelineEntity: "timeline entity",
};

/**
 * Rule `no-top-level-struct` on one parsed file: every call of a
 * registration method that resolves to this package's `SchemaRegistry`, whose
 * schema argument's type is a protobuf-es schema of `google.protobuf.Struct`,
 * `Value` or `ListValue`.
 *
 * Both checks go through the type checker rather than names, so renamed
 * imports, barrels, consts, functions returning the schema and chained calls
 * are all seen, while look-alike classes and a local `StructSchema` of some
 * other message are not.
 */
export function checkNoTopLevelStruct(sourceFile: ts.SourceFile, checker: ts.TypeChecker, packages: PackageResolver): Finding[] {
  const findings: Finding[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const finding = checkCall(node, sourceFile, checker, packages);
      if (finding) findings.push(finding);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return findings;
}

function checkCall(call: ts.CallExpression, sourceFile: ts.SourceFile, checker: ts.TypeChecker, packages: PackageResolver): Finding | undefined {
  const method = calledMemberName(call.expression);
  if (method === undefined || !REGISTRATION_METHODS.has(method)) return undefined;
  const schemaArg = call.arguments[1];
  if (!schemaArg) return undefined;
  if (!isSessionstreamRegistration(call, checker, packages)) return undefined;
  const untyped = untypedTypeNames(schemaArg, checker);
  if (untyped.length === 0) return undefined;

  const start = sourceFile.getLineAndCharacterOfPosition(schemaArg.getStart(sourceFile));
  const end = sourceFile.getLineAndCharacterOfPosition(schemaArg.getEnd());
  return {
    ruleId: "no-top-level-struct",
    file: sourceFile.fileName,
    range: { line: start.line + 1, column: start.character + 1, endLine: end.line + 1, endColumn: end.character + 1 },
    message: `${method}() registers ${untyped.join(" | ")} as a top-level ${FAMILY_OF[method] ?? "message"} payload: untyped JSON bypasses the schema`,
  };
}

/** `reg.registerX`, `reg?.registerX` or `reg["registerX"]`: the member name, else undefined. */
function calledMemberName(callee: ts.Expression): string | undefined {
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  if (ts.isElementAccessExpression(callee) && ts.isStringLiteralLike(callee.argumentExpression)) return callee.argumentExpression.text;
  return undefined;
}

/**
 * The call resolves to a method declared on a class named `SchemaRegistry`
 * that belongs to the `sessionstream` package. Going through the resolved
 * signature (not the receiver's name) covers subclasses, aliases and
 * `ReturnType<...>`-typed receivers alike.
 */
function isSessionstreamRegistration(call: ts.CallExpression, checker: ts.TypeChecker, packages: PackageResolver): boolean {
  const declaration = checker.getResolvedSignature(call)?.declaration;
  if (!declaration || ts.isJSDocSignature(declaration)) return false;
  const owner = declaration.parent;
  if (!owner || !ts.isClassDeclaration(owner) || owner.name?.text !== "SchemaRegistry") return false;
  return packages.isSessionstream(owner.getSourceFile().fileName);
}

/**
 * The untyped well-known type names the schema argument may be. A
 * protobuf-es `GenMessage<T>` types its `typeName` as the literal
 * `T["$typeName"]`, so the literal is read from the type, never from the
 * expression's spelling. A plain `DescMessage` (typeName: string) is unknown
 * at compile time and not flagged.
 */
function untypedTypeNames(schemaArg: ts.Expression, checker: ts.TypeChecker): string[] {
  const found = new Set<string>();
  const type = checker.getTypeAtLocation(schemaArg);
  for (const member of type.isUnion() ? type.types : [type]) {
    const property = checker.getPropertyOfType(member, "typeName");
    if (!property) continue;
    const propertyType = checker.getTypeOfSymbolAtLocation(property, schemaArg);
    for (const literal of propertyType.isUnion() ? propertyType.types : [propertyType]) {
      if (literal.isStringLiteral() && UNTYPED_MESSAGE_TYPES.has(literal.value)) found.add(literal.value);
    }
  }
  return [...found].sort();
}
