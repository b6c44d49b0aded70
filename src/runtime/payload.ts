import { create, isMessage, type DescMessage, type Message } from "@bufbuild/protobuf";
import { SessionstreamError } from "./errors.js";

/**
 * Returns `payload` as a message of `schema`: a message of that exact type
 * passes through untouched (no clone), a plain init object is `create`d
 * (unknown keys rejected), anything else is a `payload_type_mismatch` whose
 * message names both types.
 */
export function coercePayload(schema: DescMessage, payload: unknown, what: string): Message {
  if (isMessage(payload)) {
    if (payload.$typeName === schema.typeName) return payload;
    throw new SessionstreamError(
      "payload_type_mismatch",
      `${what} expects payload type ${schema.typeName}, got ${payload.$typeName}`,
    );
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw new SessionstreamError(
      "payload_type_mismatch",
      `${what} expects payload type ${schema.typeName}, got ${payload === null ? "null" : Array.isArray(payload) ? "an array" : typeof payload}`,
    );
  }
  for (const key of Object.keys(payload)) {
    if (!schema.fields.some((f) => f.localName === key) && !schema.oneofs.some((o) => o.localName === key)) {
      throw new SessionstreamError(
        "payload_type_mismatch",
        `${what} expects payload type ${schema.typeName}, which has no field "${key}"`,
      );
    }
  }
  return create(schema, payload as never);
}
