// Checks one stored protobuf binary payload against the current message
// schema. fromBinary alone is too forgiving: a field whose type changed
// (string -> int64) is read with the new type's wire format and yields
// garbage without an error. Here every field's wire type is compared with
// what the current schema expects, nested messages included.
import { fromBinary, ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** What one payload check found. */
export interface WireCheck {
  /** Why the payload does not decode as written, or `undefined` when it does. */
  readonly problem?: string;
  /** Field numbers present in the payload that the schema neither defines nor reserves (their data is dropped on read). */
  readonly unknownFields: readonly number[];
}

const MAX_DEPTH = 32;

/** Checks `bytes` against `desc`: wire types of every known field (recursively), then a full decode. */
export function checkPayload(desc: DescMessage, bytes: Uint8Array): WireCheck {
  const unknown = new Set<number>();
  let problem: string | undefined;
  try {
    problem = walk(desc, bytes, unknown, "", 0);
  } catch (err) {
    problem = `not valid protobuf binary: ${(err as Error).message}`;
  }
  if (!problem) {
    try {
      fromBinary(desc, bytes);
    } catch (err) {
      problem = (err as Error).message;
    }
  }
  return { ...(problem ? { problem } : {}), unknownFields: [...unknown].sort((a, b) => a - b) };
}

function walk(desc: DescMessage, bytes: Uint8Array, unknown: Set<number>, prefix: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    const field = desc.fields.find((f) => f.number === no);
    if (!field) {
      if (depth === 0 && !isReserved(desc, no)) unknown.add(no);
      reader.skip(wireType, no);
      continue;
    }
    const accepted = acceptedWireTypes(field);
    if (!accepted.includes(wireType)) {
      return `field ${prefix}${field.name} (${no}) is stored as ${WIRE_NAMES[wireType] ?? wireType}, but the schema reads it as ${typeLabel(field)} (${accepted.map((w) => WIRE_NAMES[w]).join(" or ")})`;
    }
    const nested = nestedMessage(field);
    if (nested && wireType === WireType.LengthDelimited) {
      const inner = walk(nested, reader.bytes(), unknown, `${prefix}${field.name}.`, depth + 1);
      if (inner) return inner;
      continue;
    }
    reader.skip(wireType, no);
  }
  return undefined;
}

function isReserved(desc: DescMessage, no: number): boolean {
  return desc.proto.reservedRange.some((r) => no >= r.start && no < r.end);
}

function nestedMessage(field: DescField): DescMessage | undefined {
  if (field.fieldKind === "message") return field.message;
  if (field.fieldKind === "list" && field.listKind === "message") return field.message;
  return undefined;
}

function scalarWire(t: ScalarType): WireType {
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    default:
      return WireType.Varint;
  }
}

function acceptedWireTypes(field: DescField): WireType[] {
  switch (field.fieldKind) {
    case "scalar":
      return [scalarWire(field.scalar)];
    case "enum":
      return [WireType.Varint];
    case "message":
      return field.delimitedEncoding ? [WireType.StartGroup] : [WireType.LengthDelimited];
    case "map":
      return [WireType.LengthDelimited];
    case "list":
      if (field.listKind === "message") return field.delimitedEncoding ? [WireType.StartGroup] : [WireType.LengthDelimited];
      // Repeated scalars and enums may be packed (one length-delimited run) or not.
      return [...new Set([field.listKind === "enum" ? WireType.Varint : scalarWire(field.scalar), WireType.LengthDelimited])];
  }
}

function typeLabel(field: DescField): string {
  switch (field.fieldKind) {
    case "scalar":
      return ScalarType[field.scalar].toLowerCase();
    case "enum":
      return field.enum.typeName;
    case "message":
      return field.message.typeName;
    case "map":
      return "a map";
    case "list":
      return `repeated ${field.listKind === "scalar" ? ScalarType[field.scalar].toLowerCase() : field.listKind === "enum" ? field.enum.typeName : field.message.typeName}`;
  }
}

const WIRE_NAMES: Record<number, string> = {
  [WireType.Varint]: "a varint",
  [WireType.Bit64]: "64-bit fixed",
  [WireType.LengthDelimited]: "length-delimited",
  [WireType.StartGroup]: "a group",
  [WireType.EndGroup]: "a group end",
  [WireType.Bit32]: "32-bit fixed",
};
