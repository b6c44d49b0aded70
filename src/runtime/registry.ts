import {
  createRegistry,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type JsonValue,
  type Message,
  type Registry,
} from "@bufbuild/protobuf";
import type { AppSchema, EmptyAppSchema, Family, WithName } from "./app-schema.js";
import { SessionstreamError } from "./errors.js";

/** Message types that carry arbitrary untyped JSON; never allowed as a top-level payload. */
export const UNTYPED_MESSAGE_TYPES: ReadonlySet<string> = new Set([
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
]);

const FAMILY_LABEL: Record<Family, string> = {
  commands: "command",
  events: "event",
  uiEvents: "UI event",
  entities: "timeline entity",
};

const UNKNOWN_CODE = {
  commands: "unknown_command",
  events: "unknown_event",
  uiEvents: "unknown_ui_event",
  entities: "unknown_timeline_kind",
} as const;

/**
 * Maps logical names to concrete protobuf message schemas, in four families:
 * commands, events, UI events and timeline entities (keyed by kind).
 *
 * Registration is chainable and accumulates the names in the type parameter,
 * so a `Hub` built on the result type-checks names and payloads.
 */
export class SchemaRegistry<S extends AppSchema = EmptyAppSchema> {
  readonly #families: Record<Family, Map<string, DescMessage>> = {
    commands: new Map(),
    events: new Map(),
    uiEvents: new Map(),
    entities: new Map(),
  };
  #typeRegistry: Registry | undefined;

  /** Registers a command name. Throws on an empty or duplicate name or an untyped schema. */
  registerCommand<N extends string, D extends DescMessage>(name: N, schema: D): SchemaRegistry<WithName<S, "commands", N, D>> {
    return this.#register("commands", name, schema) as never;
  }

  /** Registers a backend event name. */
  registerEvent<N extends string, D extends DescMessage>(name: N, schema: D): SchemaRegistry<WithName<S, "events", N, D>> {
    return this.#register("events", name, schema) as never;
  }

  /** Registers a UI event name. One message type may serve several UI event names. */
  registerUIEvent<N extends string, D extends DescMessage>(name: N, schema: D): SchemaRegistry<WithName<S, "uiEvents", N, D>> {
    return this.#register("uiEvents", name, schema) as never;
  }

  /** Registers a timeline entity kind. */
  registerTimelineEntity<N extends string, D extends DescMessage>(kind: N, schema: D): SchemaRegistry<WithName<S, "entities", N, D>> {
    return this.#register("entities", kind, schema) as never;
  }

  /** The schema registered for `name` in `family`, or `undefined`. */
  lookup(family: Family, name: string): DescMessage | undefined {
    return this.#families[family].get(name);
  }

  /** Like {@link lookup} but throws `unknown_<family>` naming the registered alternatives. */
  require(family: Family, name: string): DescMessage {
    const schema = this.#families[family].get(name);
    if (schema) return schema;
    const known = [...this.#families[family].keys()];
    throw new SessionstreamError(
      UNKNOWN_CODE[family],
      `unknown ${FAMILY_LABEL[family]} "${name}"` +
        (known.length ? ` (registered: ${known.join(", ")})` : ` (no ${FAMILY_LABEL[family]} names are registered)`),
    );
  }

  /** Registered names of one family, in registration order. */
  names(family: Family): string[] {
    return [...this.#families[family].keys()];
  }

  /** Registered `[name, schema]` pairs of one family, in registration order. */
  entries(family: Family): Array<[string, DescMessage]> {
    return [...this.#families[family].entries()];
  }

  /** Decodes protobuf JSON into the message registered for `name`. Throws `invalid_json` naming the problem. */
  fromJson(family: Family, name: string, json: JsonValue): Message {
    const schema = this.require(family, name);
    try {
      return fromJson(schema, json, { registry: this.typeRegistry });
    } catch (err) {
      throw new SessionstreamError(
        "invalid_json",
        `invalid ${schema.typeName} JSON for ${FAMILY_LABEL[family]} "${name}": ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** Encodes a message registered for `name` as protobuf JSON. */
  toJson(family: Family, name: string, message: Message): JsonValue {
    const schema = this.require(family, name);
    return toJson(schema, message, { registry: this.typeRegistry });
  }

  /** Encodes any message whose type is registered, by type name (used by stores). */
  encodeBinary(message: Message): Uint8Array {
    const schema = this.#schemaForType(message.$typeName);
    return toBinary(schema, message);
  }

  /** Decodes bytes of a registered message type, by type name (used by stores). */
  decodeBinary(typeName: string, bytes: Uint8Array): Message {
    return fromBinary(this.#schemaForType(typeName), bytes);
  }

  /**
   * A `@bufbuild/protobuf` registry of every registered message type and the
   * types they reference, for `google.protobuf.Any` packing and JSON with `Any`.
   */
  get typeRegistry(): Registry {
    if (!this.#typeRegistry) {
      const all = Object.values(this.#families).flatMap((m) => [...m.values()]);
      this.#typeRegistry = createRegistry(...all.map((d) => d.file));
    }
    return this.#typeRegistry;
  }

  #schemaForType(typeName: string): DescMessage {
    const schema = this.typeRegistry.getMessage(typeName);
    if (!schema) {
      throw new SessionstreamError("unknown_timeline_kind", `message type ${typeName} is not registered in any family`);
    }
    return schema;
  }

  #register(family: Family, name: string, schema: DescMessage): this {
    const label = FAMILY_LABEL[family];
    if (typeof name !== "string" || name.trim() === "") {
      throw new SessionstreamError("empty_name", `${label} name must be a non-empty string`);
    }
    if (!schema || schema.kind !== "message") {
      throw new SessionstreamError(
        "invalid_argument",
        `${label} "${name}": expected a message schema (a DescMessage / GenMessage from protoc-gen-es), got ${describe(schema)}`,
      );
    }
    if (UNTYPED_MESSAGE_TYPES.has(schema.typeName)) {
      throw new SessionstreamError(
        "top_level_struct",
        `${label} "${name}" uses ${schema.typeName} as its top-level payload; ` +
          `define a concrete message with typed fields instead (a Struct field inside a concrete message is fine)`,
      );
    }
    const map = this.#families[family];
    const existing = map.get(name);
    if (existing) {
      throw new SessionstreamError(
        "duplicate_name",
        `${label} "${name}" is already registered (to ${existing.typeName}); logical names must be unique within a family`,
      );
    }
    map.set(name, schema);
    this.#typeRegistry = undefined;
    return this;
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object" && "kind" in value) return `a ${(value as { kind: string }).kind} descriptor`;
  return typeof value;
}
