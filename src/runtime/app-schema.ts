import type { DescMessage, Message, MessageInitShape, MessageShape } from "@bufbuild/protobuf";

/**
 * The four families of logical names, each mapping a name to its message
 * schema. A `SchemaRegistry` accumulates one of these in its type parameter as
 * names are registered (and generated code spells it out), so that the hub's
 * `submit`, `publish` and projection results are checked by the compiler.
 */
export interface AppSchema {
  commands: object;
  events: object;
  uiEvents: object;
  entities: object;
}

/** The schema of a registry nothing typed was registered on. */
export interface EmptyAppSchema {
  commands: {};
  events: {};
  uiEvents: {};
  entities: {};
}

/** The families of an {@link AppSchema}. */
export type Family = keyof AppSchema;

/**
 * Names of one family. A family with no typed names falls back to `string`,
 * so an untyped registry still works (checked at run time only).
 */
export type NamesOf<F> = [keyof F] extends [never] ? string : Extract<keyof F, string>;

/** The schema registered for `N` in family `F`, or any message schema when untyped. */
export type SchemaOf<F, N> = N extends keyof F ? (F[N] extends DescMessage ? F[N] : DescMessage) : DescMessage;

/** A payload as stored and delivered: the message type of `N`. */
export type PayloadOf<F, N> = SchemaOf<F, N> extends infer D extends DescMessage
  ? DescMessage extends D
    ? Message
    : MessageShape<D>
  : Message;

/** A payload as accepted by `submit` / `publish`: the message, or its init shape (the hub calls `create`). */
export type PayloadInputOf<F, N> = SchemaOf<F, N> extends infer D extends DescMessage
  ? DescMessage extends D
    ? Message
    : MessageShape<D> | MessageInitShape<D>
  : Message;

/** Merges one name into one family of an app schema. */
export type WithName<S extends AppSchema, K extends Family, N extends string, D extends DescMessage> = {
  [F in Family]: F extends K ? S[F] & { [P in N]: D } : S[F];
};
