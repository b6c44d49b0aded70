import type { ts } from "ts-morph";
import { typescript } from "./typescript-api.js";
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
  const methods = new MethodResolver(checker, packages);
  const visit = (node: ts.Node): void => {
    if (typescript.isCallExpression(node)) {
      const finding = checkCall(node, sourceFile, checker, methods);
      if (finding) findings.push(finding);
    }
    typescript.forEachChild(node, visit);
  };
  visit(sourceFile);
  return findings;
}

function checkCall(call: ts.CallExpression, sourceFile: ts.SourceFile, checker: ts.TypeChecker, methods: MethodResolver): Finding | undefined {
  const method = calledMemberName(call.expression);
  if (method === undefined || !REGISTRATION_METHODS.has(method)) return undefined;
  const schemaArg = call.arguments[1];
  if (!schemaArg) return undefined;
  if (!methods.isSessionstreamRegistration(call)) return undefined;
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
  if (typescript.isPropertyAccessExpression(callee)) return callee.name.text;
  if (typescript.isElementAccessExpression(callee) && typescript.isStringLiteralLike(callee.argumentExpression)) return callee.argumentExpression.text;
  return undefined;
}

/**
 * Answers "does this call go to a method declared on a class named
 * `SchemaRegistry` that belongs to the `sessionstream` package?" through the
 * type of the receiver (not its name), which covers subclasses, aliases,
 * optional chains and `ReturnType<...>`-typed receivers alike.
 *
 * The method is looked up as a property of the receiver's type instead of
 * resolving the call's signature: resolving would infer the call's generics
 * and build the registry's accumulated schema type (`SchemaRegistry<WithName<...>>`)
 * at every link of a chain, which was most of the checker's time. In a chain
 * (`reg.registerEvent(...).registerUIEvent(...)`) the receiver's type is the
 * previous link's declared return type, computed once per method declaration.
 */
class MethodResolver {
  readonly #checker: ts.TypeChecker;
  readonly #packages: PackageResolver;
  /** Per registration call: the declaration its member resolves to, if any. */
  readonly #byCall = new Map<ts.CallExpression, ts.Declaration | null>();
  /** Per method declaration: the return type of its signature. */
  readonly #returnTypes = new Map<ts.Declaration, ts.Type | null>();

  constructor(checker: ts.TypeChecker, packages: PackageResolver) {
    this.#checker = checker;
    this.#packages = packages;
  }

  isSessionstreamRegistration(call: ts.CallExpression): boolean {
    const declaration = this.#declarationOf(call);
    if (!declaration) return false;
    const owner = declaration.parent;
    if (!owner || !typescript.isClassDeclaration(owner) || owner.name?.text !== "SchemaRegistry") return false;
    return this.#packages.isSessionstream(owner.getSourceFile().fileName);
  }

  // The declaration of the called member: a method of the receiver's (apparent) type.
  #declarationOf(call: ts.CallExpression): ts.Declaration | undefined {
    const known = this.#byCall.get(call);
    if (known !== undefined) return known ?? undefined;
    let found: ts.Declaration | undefined;
    const callee = call.expression;
    const method = calledMemberName(callee);
    if (method !== undefined && (typescript.isPropertyAccessExpression(callee) || typescript.isElementAccessExpression(callee))) {
      const receiver = this.#receiverType(callee.expression);
      const property = receiver && this.#checker.getPropertyOfType(this.#checker.getNonNullableType(receiver), method);
      found = property?.declarations?.find((d) => typescript.isMethodDeclaration(d) || typescript.isMethodSignature(d));
    }
    this.#byCall.set(call, found ?? null);
    return found;
  }

  #receiverType(expression: ts.Expression): ts.Type | undefined {
    let inner = expression;
    while (typescript.isParenthesizedExpression(inner) || typescript.isNonNullExpression(inner)) inner = inner.expression;
    const innerMethod = typescript.isCallExpression(inner) ? calledMemberName(inner.expression) : undefined;
    if (typescript.isCallExpression(inner) && innerMethod !== undefined && REGISTRATION_METHODS.has(innerMethod) && inner.typeArguments === undefined) {
      const declaration = this.#declarationOf(inner);
      const returnType = declaration && this.#returnTypeOf(declaration);
      if (returnType) return returnType;
    }
    return this.#checker.getTypeAtLocation(expression);
  }

  #returnTypeOf(declaration: ts.Declaration): ts.Type | undefined {
    let type = this.#returnTypes.get(declaration);
    if (type === undefined) {
      const signature = typescript.isFunctionLike(declaration) ? this.#checker.getSignatureFromDeclaration(declaration) : undefined;
      type = signature ? this.#checker.getReturnTypeOfSignature(signature) : null;
      this.#returnTypes.set(declaration, type);
    }
    return type ?? undefined;
  }
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
