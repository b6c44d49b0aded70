import { fromJson, type JsonObject, type Registry } from "@bufbuild/protobuf";
import type { PayloadDecoder } from "./client/session-view.js";

/**
 * A client payload decoder backed by a `@bufbuild/protobuf` registry (e.g.
 * `schemaRegistry.typeRegistry`): `Any` payloads become typed messages. A type
 * the registry does not know stays protobuf JSON. Kept out of the client entry
 * so the client's files have no bare imports.
 */
export function createPayloadDecoder(registry: Registry): PayloadDecoder {
  return {
    decode(typeName, json) {
      const schema = registry.getMessage(typeName);
      return schema ? fromJson(schema, json as JsonObject, { registry, ignoreUnknownFields: true }) : json;
    },
  };
}
