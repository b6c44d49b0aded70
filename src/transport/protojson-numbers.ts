// Integer fields written as JSON strings, read the way the reference Go
// server reads them (protojson): the string, untrimmed, must be a JSON number
// token ("7", "1e2", "1.0") with an integral value. `@bufbuild/protobuf`
// hands such strings to `BigInt()`, which also takes "0x10", "0b11", "0o7",
// " 7", "+7" and "007"; the Go server refuses those, and so does this one.
import { ScalarType, type DescMessage } from "@bufbuild/protobuf";

/** A JSON number token (RFC 8259 section 6). */
const JSON_NUMBER = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

const INTEGER_TYPES: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT32,
  ScalarType.UINT32,
  ScalarType.SINT32,
  ScalarType.FIXED32,
  ScalarType.SFIXED32,
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

/**
 * Checks and canonicalizes, in place, every integer field of `json` (the
 * parsed protobuf JSON of a `desc` message, nested messages included) that
 * is written as a string: a JSON number token with an integral value becomes
 * its decimal digits ("1e2" -> "100"); anything else throws an `Error`
 * naming the field and the value. Values of other shapes are left for the
 * protobuf parser to judge.
 */
export function canonicalizeIntegerStrings(desc: DescMessage, json: unknown, path = desc.typeName): void {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return;
  const record = json as Record<string, unknown>;
  for (const field of desc.fields) {
    const key = field.jsonName in record ? field.jsonName : field.name in record ? field.name : undefined;
    if (key === undefined) continue;
    const value = record[key];
    const at = `${path}.${field.name}`;
    switch (field.fieldKind) {
      case "scalar":
        record[key] = checkScalar(field.scalar, value, at);
        break;
      case "message":
        canonicalizeIntegerStrings(field.message, value, at);
        break;
      case "list":
        if (!Array.isArray(value)) break;
        for (let i = 0; i < value.length; i++) {
          if (field.listKind === "scalar") value[i] = checkScalar(field.scalar, value[i], `${at}[${i}]`);
          else if (field.listKind === "message") canonicalizeIntegerStrings(field.message, value[i], `${at}[${i}]`);
        }
        break;
      case "map":
        if (typeof value !== "object" || value === null || Array.isArray(value)) break;
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          const entry = value as Record<string, unknown>;
          if (field.mapKind === "scalar") entry[k] = checkScalar(field.scalar, v, `${at}["${k}"]`);
          else if (field.mapKind === "message") canonicalizeIntegerStrings(field.message, v, `${at}["${k}"]`);
        }
        break;
      default:
        break;
    }
  }
}

function checkScalar(type: ScalarType, value: unknown, at: string): unknown {
  if (typeof value !== "string" || !INTEGER_TYPES.has(type)) return value;
  const canonical = integerString(value);
  if (canonical === undefined) {
    throw new Error(`field ${at}: ${JSON.stringify(value)} is not an integer in protobuf JSON (decimal digits, no sign "+", no leading zeros, spaces or 0x/0b/0o prefixes)`);
  }
  return canonical;
}

/** The decimal digits of a JSON number token with an integral value, or `undefined`. */
export function integerString(text: string): string | undefined {
  const m = JSON_NUMBER.exec(text);
  if (!m) return undefined;
  const [, sign, int, frac = "", exp = "0"] = m;
  const exponent = Number(exp);
  // Bounded: a 64-bit integer has at most 20 digits; a larger exponent is out of range anyway.
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 400) return undefined;
  let digits = int! + frac;
  let scale = exponent - frac.length;
  if (scale >= 0) {
    digits += "0".repeat(scale);
    scale = 0;
  } else {
    const cut = digits.length + scale;
    const dropped = cut > 0 ? digits.slice(cut) : digits;
    if (!/^0*$/.test(dropped)) return undefined; // a fraction remains
    digits = cut > 0 ? digits.slice(0, cut) : "0";
  }
  const value = BigInt(digits).toString();
  return sign === "-" && value !== "0" ? "-" + value : value;
}
