import { create, toJson, type DescField, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import type { AppSchema, Family } from "../runtime/app-schema.js";
import type { SchemaRegistry } from "../runtime/registry.js";

/** One field of a message, as the schema endpoint describes it. */
export interface FieldDescription {
  /** The protobuf JSON name (what HTTP bodies and frames use). */
  readonly name: string;
  /** Scalar type (`string`, `int64`, ...), `enum <type>`, `message <type>` or `map<k, v>`. */
  readonly type: string;
  readonly repeated: boolean;
}

/** One registered logical name. */
export interface NameDescription {
  readonly name: string;
  readonly typeName: string;
  readonly fields: readonly FieldDescription[];
  /** The payload with every field at its default, as protobuf JSON: a starting point for a request body. */
  readonly template: JsonValue;
}

/** The `GET /api/schema` body: every registered name by family. */
export type SchemaDescription = Record<Family, NameDescription[]>;

const FAMILIES: readonly Family[] = ["commands", "events", "uiEvents", "entities"];

/** Describes every registered name with its message's JSON shape. */
export function describeSchema(registry: SchemaRegistry<AppSchema>): SchemaDescription {
  const out = {} as SchemaDescription;
  for (const family of FAMILIES) {
    out[family] = registry.entries(family).map(([name, schema]) => ({
      name,
      typeName: schema.typeName,
      fields: schema.fields.map(describeField),
      template: template(schema, registry),
    }));
  }
  return out;
}

function template(schema: DescMessage, registry: SchemaRegistry<AppSchema>): JsonValue {
  return toJson(schema, create(schema), { alwaysEmitImplicit: true, registry: registry.typeRegistry });
}

function describeField(field: DescField): FieldDescription {
  switch (field.fieldKind) {
    case "scalar":
      return { name: field.jsonName, type: scalarName(field.scalar), repeated: false };
    case "enum":
      return { name: field.jsonName, type: `enum ${field.enum.typeName}`, repeated: false };
    case "message":
      return { name: field.jsonName, type: `message ${field.message.typeName}`, repeated: false };
    case "list":
      return {
        name: field.jsonName,
        type:
          field.listKind === "scalar"
            ? scalarName(field.scalar)
            : field.listKind === "enum"
              ? `enum ${field.enum.typeName}`
              : `message ${field.message.typeName}`,
        repeated: true,
      };
    case "map":
      return {
        name: field.jsonName,
        type: `map<${scalarName(field.mapKey)}, ${
          field.mapKind === "scalar" ? scalarName(field.scalar) : field.mapKind === "enum" ? field.enum.typeName : field.message.typeName
        }>`,
        repeated: false,
      };
  }
}

// ScalarType numbers from descriptor.proto's FieldDescriptorProto.Type.
const SCALAR_NAMES: Record<number, string> = {
  1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32", 8: "bool",
  9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64",
};

function scalarName(scalar: number): string {
  return SCALAR_NAMES[scalar] ?? `scalar(${scalar})`;
}
