import { create, isMessage, type DescMessage, type Message } from "@bufbuild/protobuf";
import { SessionstreamError } from "./errors.js";
import { checkPayload } from "./payload-check.js";

/**
 * Returns `payload` as a message of `schema`: a message of that exact type
 * passes through untouched (no clone), a plain init object is `create`d.
 * Either is checked at every depth first: unknown fields, wrong scalar types
 * and messages of the wrong type in message fields are a
 * `payload_type_mismatch` naming the field path, so every store keeps
 * exactly what the schema describes.
 *
 * Errors say `what` the payload is ("event"), followed by `name` in quotes
 * when given (`event "ChatTokensDelta"`): the description is only built for
 * an error, not on every call of this per-publish path.
 */
export function coercePayload(schema: DescMessage, payload: unknown, what: string, name?: string): Message {
  const message = isMessage(payload);
  if (message ? payload.$typeName !== schema.typeName : payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw wrongPayload(schema, payload, describe(what, name));
  }
  const problem = checkPayload(schema, payload as object, message);
  if (problem !== undefined) {
    throw new SessionstreamError("payload_type_mismatch", `${describe(what, name)} (payload type ${schema.typeName}): ${problem}`);
  }
  return message ? payload : create(schema, payload as never);
}

// Error paths apart from coercePayload, which stays small on the per-publish path.
function wrongPayload(schema: DescMessage, payload: unknown, what: string): SessionstreamError {
  const got = isMessage(payload)
    ? payload.$typeName
    : payload === null
      ? "null"
      : Array.isArray(payload)
        ? "an array"
        : typeof payload;
  return new SessionstreamError("payload_type_mismatch", `${what} expects payload type ${schema.typeName}, got ${got}`);
}

function describe(what: string, name: string | undefined): string {
  return name === undefined ? what : `${what} "${name}"`;
}
