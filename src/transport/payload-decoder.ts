import { fromJson, type JsonValue, type Registry } from "@bufbuild/protobuf";
import type { PayloadDecoder } from "./client/session-view.js";
import { CUSTOM_JSON_WKT } from "./frame-codec.js";

/**
 * A client payload decoder backed by a `@bufbuild/protobuf` registry (e.g.
 * `schemaRegistry.typeRegistry`): `Any` payloads become typed messages. A type
 * the registry does not know stays protobuf JSON. Well-known types with their
 * own JSON form (`StringValue`, `Timestamp`, `Struct`, ...) arrive in an `Any`
 * as `{"@type": ..., "value": <json>}` and are decoded from that `value`.
 * Unknown fields are ignored (a newer server may add some); a payload that
 * does not decode throws, and the client reports it to its `onError`.
 * Kept out of the client entry so the client's files have no bare imports.
 */
export function createPayloadDecoder(registry: Registry): PayloadDecoder {
  return {
    decode(typeName, json) {
      const schema = registry.getMessage(typeName);
      if (!schema) return json;
      const body: JsonValue = CUSTOM_JSON_WKT.has(schema.typeName) ? (json.value ?? null) : json;
      return fromJson(schema, body, { registry, ignoreUnknownFields: true });
    },
  };
}
