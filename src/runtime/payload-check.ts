import { isMessage, ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { isWrapperDesc } from "@bufbuild/protobuf/wkt";

/**
 * Checks a payload (a message or a plain init object) against its schema at
 * every depth, the way the binary encoder will read it. Returns `undefined`
 * when it is valid, or a problem naming the field path ("sourceContext.bogus:
 * no such field in google.protobuf.SourceContext").
 *
 * `create` copies only known keys and passes scalars through unchecked, so
 * without this an unknown nested key is silently dropped, a number in a
 * string field reaches the store (and each store keeps something different),
 * and a message of another type in a message field becomes an empty message.
 * `message` is whether `payload` is a message, when the caller knows already.
 */
export function checkPayload(schema: DescMessage, payload: object, message = isMessage(payload)): string | undefined {
  return checkMessage(schema, payload as Record<string, unknown>, "", message);
}

/** `message`: whether `value` is a message (`isMessage`), which the caller knows already. */
function checkMessage(desc: DescMessage, value: Record<string, unknown>, path: string, message: boolean): string | undefined {
  if (message && value.$typeName === desc.typeName) {
    const members = membersOf(desc);
    if (members.plainTypes !== undefined && hasPlainShape(value, members.shape!, members.plainTypes)) return undefined;
  }
  return checkMessageFully(desc, value, path, message);
}

/**
 * The per-publish fast path, kept small: a message whose own keys follow the
 * learned shape of its type, where every field of that shape is a singular
 * string, bool or float/double whose value has that `typeof` (most event,
 * UI and entity payloads). Anything else is left to the full check.
 */
function hasPlainShape(value: Record<string, unknown>, shape: readonly string[], types: readonly (string | undefined)[]): boolean {
  let i = 0;
  for (const key in value) {
    if (shape[i] !== key) return false;
    const type = types[i++];
    if (type !== undefined && typeof value[key] !== type) return false;
  }
  return true;
}

function checkMessageFully(desc: DescMessage, value: Record<string, unknown>, path: string, message: boolean): string | undefined {
  if (message && value.$typeName !== desc.typeName) {
    return at(path, `expected a ${desc.typeName} message, got a ${String(value.$typeName)} message`);
  }
  const members = membersOf(desc);
  // A message of the learned shape (the same own keys in the same order)
  // finds its members by position; at the first key off the shape, by name.
  // for-in instead of Object.keys: no array per check on this per-publish path.
  let shape = message ? members.shape : undefined;
  const shapeMembers = members.shapeMembers;
  let i = 0;
  for (const key in value) {
    let known: KnownMember | undefined;
    if (shape !== undefined && shape[i] === key) {
      known = shapeMembers[i++];
      if (known === undefined) continue; // $typeName, $unknown
    } else {
      shape = undefined;
      if (!Object.hasOwn(value, key)) continue; // own keys only, as Object.keys (proto2 defaults live on the prototype)
      if (message && key.startsWith("$")) continue; // $typeName, $unknown
      known = members.byName.get(key);
      if (!known) return at(join(path, key), `no such field in ${desc.typeName}`);
    }
    const v = value[key];
    if (known.plainType !== undefined && typeof v === known.plainType) continue;
    const member = known.member;
    if (member.kind === "oneof") {
      if (v == null) continue;
      if (typeof v !== "object" || Array.isArray(v)) return at(join(path, key), `expected a oneof { case, value }, got ${describe(v)}`);
      const { case: c, value: inner, ...rest } = v as { case?: unknown; value?: unknown };
      const extra = Object.keys(rest)[0];
      if (extra !== undefined) return at(join(path, `${key}.${extra}`), "a oneof holds only `case` and `value`");
      if (c === undefined) continue;
      const field = member.fields.find((f) => f.localName === c);
      if (!field) return at(join(path, key), `${describe(c)} is not a case of oneof ${member.name} (cases: ${member.fields.map((f) => f.localName).join(", ")})`);
      const problem = checkSingular(field, inner, join(path, `${key}.value`), true);
      if (problem) return problem;
      continue;
    }
    const problem = checkField(member, v, join(path, key));
    if (problem) return problem;
  }
  if (message && members.shape === undefined) members.learnShape(Object.keys(value));
  return undefined;
}

type Member = DescMessage["members"][number];

interface KnownMember {
  readonly member: Member;
  /** For a singular string, bool, double or float field: the `typeof` that makes any value valid (checked inline). */
  readonly plainType: "string" | "boolean" | "number" | undefined;
}

/**
 * The members of one message type by name, and the own keys of the first
 * message that passed a check: messages of that shape (every message
 * `create` built with the same fields set) skip the lookup per key.
 */
class MessageMembers {
  readonly byName: ReadonlyMap<string, KnownMember>;
  /** The own keys of the first message of this type that passed, in order. */
  shape: readonly string[] | undefined;
  /** Per key of `shape`: its member, undefined for `$typeName` and `$unknown`. */
  shapeMembers: readonly (KnownMember | undefined)[] = [];
  /**
   * Per key of `shape`: the `typeof` its values need, undefined for `$`
   * keys; set only when every field of the shape is plain (see `plainType`).
   */
  plainTypes: readonly (string | undefined)[] | undefined;

  constructor(desc: DescMessage) {
    this.byName = new Map(desc.members.map((m) => [m.localName, { member: m, plainType: plainTypeOf(m) }]));
  }

  /** Remembers the keys of a message that passed, once: one shape per type, never replaced (no churn between shapes). */
  learnShape(keys: readonly string[]): void {
    if (this.shape !== undefined) return;
    this.shapeMembers = keys.map((k) => (k.startsWith("$") ? undefined : this.byName.get(k)));
    this.shape = keys;
    if (this.shapeMembers.every((m, i) => (m === undefined ? keys[i]!.startsWith("$") : m.plainType !== undefined))) {
      this.plainTypes = this.shapeMembers.map((m) => m?.plainType);
    }
  }
}

// Every publish checks its payload (and each projected payload): look members up by name, not by a scan per key.
const membersByDesc = new WeakMap<DescMessage, MessageMembers>();
function membersOf(desc: DescMessage): MessageMembers {
  let members = membersByDesc.get(desc);
  if (!members) membersByDesc.set(desc, (members = new MessageMembers(desc)));
  return members;
}

function plainTypeOf(member: Member): KnownMember["plainType"] {
  if (member.kind !== "field" || member.fieldKind !== "scalar") return undefined;
  switch (member.scalar) {
    case ScalarType.STRING:
      return "string";
    case ScalarType.BOOL:
      return "boolean";
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return "number";
    default:
      return undefined;
  }
}

function checkField(field: DescField, value: unknown, path: string): string | undefined {
  if (value == null) return undefined; // unset
  switch (field.fieldKind) {
    case "list": {
      if (!Array.isArray(value)) return at(path, `expected a list, got ${describe(value)}`);
      for (let i = 0; i < value.length; i++) {
        const problem = checkSingular(field, value[i], `${path}[${i}]`, true);
        if (problem) return problem;
        if (value[i] == null) return at(`${path}[${i}]`, `list items cannot be ${describe(value[i])}`);
      }
      return undefined;
    }
    case "map": {
      if (typeof value !== "object" || Array.isArray(value) || isMessage(value)) return at(path, `expected a map (plain object), got ${describe(value)}`);
      for (const [k, v] of Object.entries(value)) {
        if (!validMapKey(field.mapKey, k)) return at(`${path}[${JSON.stringify(k)}]`, `invalid map key for ${ScalarType[field.mapKey].toLowerCase()}`);
        if (v == null) return at(`${path}[${JSON.stringify(k)}]`, `map values cannot be ${describe(v)}`);
        const problem = checkSingular(field, v, `${path}[${JSON.stringify(k)}]`, true);
        if (problem) return problem;
      }
      return undefined;
    }
    default:
      return checkSingular(field, value, path, field.oneof !== undefined);
  }
}

/** One value of a field's element type; `boxed` is true where wrapper types are not unboxed (lists, maps, oneofs). */
function checkSingular(
  field: { scalar?: ScalarType | undefined; enum?: DescField["enum"]; message?: DescMessage | undefined; longAsString?: boolean },
  value: unknown,
  path: string,
  boxed: boolean,
): string | undefined {
  if (value == null) return undefined;
  if (field.scalar !== undefined) return checkScalar(field.scalar, value, path, field.longAsString === true);
  if (field.enum) {
    if (typeof value !== "number" || !Number.isInteger(value) || value > 0x7fffffff || value < -0x80000000) {
      return at(path, `expected a ${field.enum.typeName} value (an integer), got ${describe(value)}`);
    }
    if (!field.enum.open && !field.enum.values.some((v) => v.number === value)) {
      return at(path, `${value} is not a value of the closed enum ${field.enum.typeName}`);
    }
    return undefined;
  }
  const desc = field.message!;
  // Singular wrapper fields (google.protobuf.StringValue, …) hold the bare value; Struct fields a JSON object.
  if (!boxed && isWrapperDesc(desc)) return checkScalar(desc.fields[0]!.scalar!, value, path, false);
  if (desc.typeName === "google.protobuf.Struct" && !boxed && !isMessage(value)) {
    return isJsonObject(value) ? undefined : at(path, `expected a JSON object, got ${describe(value)}`);
  }
  if (typeof value !== "object" || Array.isArray(value) || value instanceof Uint8Array) {
    return at(path, `expected a ${desc.typeName} message or init object, got ${describe(value)}`);
  }
  return checkMessage(desc, value as Record<string, unknown>, path, isMessage(value));
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function checkScalar(scalar: ScalarType, value: unknown, path: string, longAsString: boolean): string | undefined {
  switch (scalar) {
    case ScalarType.STRING:
      return typeof value === "string" ? undefined : expected(path, "a string", value);
    case ScalarType.BOOL:
      return typeof value === "boolean" ? undefined : expected(path, "a boolean", value);
    case ScalarType.BYTES:
      return value instanceof Uint8Array ? undefined : expected(path, "bytes (Uint8Array)", value);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return typeof value === "number" ? undefined : expected(path, "a number", value);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return typeof value === "number" && Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff
        ? undefined
        : expected(path, "an int32 (an integer number)", value);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffffffff
        ? undefined
        : expected(path, "a uint32 (a non-negative integer number)", value);
    default: {
      // 64-bit: bigint (or a decimal string with jstype = JS_STRING), as protobuf-es types them.
      const unsigned = scalar === ScalarType.UINT64 || scalar === ScalarType.FIXED64;
      const what = unsigned ? "a uint64" : "an int64";
      let n: bigint;
      if (longAsString) {
        if (typeof value !== "string" || !/^-?\d+$/.test(value)) return expected(path, `${what} as a decimal string`, value);
        n = BigInt(value);
      } else {
        if (typeof value !== "bigint") return expected(path, `${what} (a bigint)`, value);
        n = value;
      }
      const ok = unsigned ? n >= 0n && n <= UINT64_MAX : n >= INT64_MIN && n <= INT64_MAX;
      return ok ? undefined : at(path, `${n} is out of range for ${what}`);
    }
  }
}

// A function, not a closure per call: every scalar of every payload is checked.
function expected(path: string, what: string, value: unknown): string {
  return at(path, `expected ${what}, got ${describe(value)}`);
}

function validMapKey(scalar: ScalarType, key: string): boolean {
  switch (scalar) {
    case ScalarType.STRING:
      return true;
    case ScalarType.BOOL:
      return key === "true" || key === "false";
    default:
      return /^-?\d+$/.test(key);
  }
}

function isJsonObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every(isJsonValue);
}

function isJsonValue(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonValue);
  return isJsonObject(value);
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function at(path: string, problem: string): string {
  return path === "" ? problem : `field ${path}: ${problem}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Uint8Array) return "bytes";
  if (isMessage(value)) return `a ${value.$typeName} message`;
  switch (typeof value) {
    case "string":
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case "number":
    case "bigint":
    case "boolean":
      return `${typeof value} ${String(value)}`;
    default:
      return typeof value === "object" ? "an object" : typeof value;
  }
}
