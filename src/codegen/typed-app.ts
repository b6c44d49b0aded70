// Types that generated `*_sessionstream.ts` files build on. Type-only and free
// of Node imports, so the root `sessionstream` entry exports them.
import type { AppSchema, Family, NamesOf, PayloadInputOf, PayloadOf } from "../runtime/app-schema.js";
import type { BackendEventEnvelope, CommandHandler } from "../runtime/handlers.js";
import type { Session } from "../runtime/session.js";
import type { TimelineView } from "../runtime/timeline.js";

/**
 * The runtime's {@link AppSchema} under a second name, for generated files
 * that export an `AppSchema` of their own (the app-level file).
 */
export type AnyAppSchema = AppSchema;

/**
 * Two app schemas in one: what a registry holds after the generated
 * `register<File>Schemas(reg)` of several proto files ran on it.
 */
export type MergeAppSchemas<A extends AppSchema, B extends AppSchema> = { [F in Family]: A[F] & B[F] };

/** The names of family `K` in file schema `F` that app schema `A` lacks. */
type MissingNames<A extends AppSchema, F extends AppSchema, K extends Family> = Exclude<keyof F[K], keyof A[K]>;

/**
 * `true` when app schema `A` holds every name of file schema `F`; otherwise
 * a message naming the fix. Each generated `<file>_sessionstream.ts` checks
 * `true satisfies AppCovers<AppSchema, FileSchema>`, so an app-level file
 * generated without that proto file (e.g. `buf generate` running the plugin
 * once per directory) fails to compile with this message.
 */
export type AppCovers<A extends AppSchema, F extends AppSchema> = [
  MissingNames<A, F, "commands"> | MissingNames<A, F, "events"> | MissingNames<A, F, "uiEvents"> | MissingNames<A, F, "entities">,
] extends [never]
  ? true
  : "app_sessionstream.ts was generated without this proto file: generate every annotated file in one run (sessionstream gen, or strategy: all for protoc-gen-sessionstream in buf.gen.yaml)";

/** The handlers of the commands `Names` of app `S`, one per name (a missing one is a compile error). */
export type CommandHandlerMap<S extends AppSchema, Names extends string> = {
  readonly [N in Names]: CommandHandler<S, N & NamesOf<S["commands"]>>;
};

/** The event `N` of app `S`, as one case of a projection receives it. */
export type EventOf<S extends AppSchema, N extends string> = BackendEventEnvelope<PayloadOf<S["events"], N>, N>;

/** A UI event restricted to the names `U` (those the event's `ui_events` annotation declares). */
export type DeclaredUIEvent<S extends AppSchema, U extends string> = {
  [N in U]: { readonly name: N; readonly payload: PayloadInputOf<S["uiEvents"], N> };
}[U];

/** A timeline entity change restricted to the kinds `K` (the event's `timeline_entities`); `tombstone: true` removes it. */
export type DeclaredEntity<S extends AppSchema, K extends string> = {
  [N in K]:
    | { readonly kind: N; readonly id: string; readonly payload: PayloadInputOf<S["entities"], N>; readonly tombstone?: false }
    | { readonly kind: N; readonly id: string; readonly payload?: PayloadInputOf<S["entities"], N>; readonly tombstone: true };
}[K];

/** What a case may return: a list, possibly asynchronously. */
export type CaseResult<T> = readonly T[] | Promise<readonly T[]>;

/**
 * The UI projection of an app as a case map: one entry per event (a missing
 * one is a compile error), returning only the UI events that event declares.
 * `null` ignores the event explicitly.
 *
 * `Emits` maps each event name to the union of its declared UI event names
 * (`never` when it declares none). Its keys choose the cases: every event of
 * `S`, or only the events of one proto file while `S` is the whole app (so a
 * case may emit a UI event another file defines, with its payload typed).
 */
export type UIProjectionCases<S extends AppSchema, Emits extends { [N in keyof Emits]: string }> = {
  readonly [N in Extract<keyof Emits, NamesOf<S["events"]>>]:
    | ((event: EventOf<S, N>, session: Session, view: TimelineView) => CaseResult<DeclaredUIEvent<S, Emits[N]>>)
    | null;
};

/** The timeline projection of an app as a case map; like {@link UIProjectionCases} for entity kinds. */
export type TimelineProjectionCases<S extends AppSchema, Emits extends { [N in keyof Emits]: string }> = {
  readonly [N in Extract<keyof Emits, NamesOf<S["events"]>>]:
    | ((event: EventOf<S, N>, session: Session, view: TimelineView) => CaseResult<DeclaredEntity<S, Emits[N]>>)
    | null;
};
