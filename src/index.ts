export type {
  AppSchema,
  EmptyAppSchema,
  Family,
  NamesOf,
  PayloadInputOf,
  PayloadOf,
  SchemaOf,
  WithName,
} from "./runtime/app-schema.js";
export { SessionstreamError, type RuntimeErrorKind, type RuntimeErrorReport, type SessionstreamErrorCode } from "./runtime/errors.js";
export {
  InProcessEventBus,
  isClusterEventBus,
  type ClusterApplyResult,
  type ClusterEventBus,
  type ClusterHubLink,
  type EventBus,
  type EventConsumer,
  type PendingEvent,
} from "./runtime/event-bus.js";
export type {
  AppliedEvent,
  BackendEvent,
  BackendEventEnvelope,
  CommandEnvelope,
  CommandHandler,
  CommandPublisher,
  EventPublisher,
  TimelineEntityOutput,
  TimelineProjection,
  UIEvent,
  UIEventOutput,
  UIFanout,
  UIProjection,
} from "./runtime/handlers.js";
export { Hub, type HubOptions } from "./runtime/hub.js";
export type { RunContext, RunHandle, RunKindHooks, RunOptions, RunSpec, RunWork, StopResult } from "./runtime/runs.js";
export type { ProjectionErrorPolicy } from "./runtime/projection-runner.js";
export { coercePayload } from "./runtime/payload.js";
export { SchemaRegistry, UNTYPED_MESSAGE_TYPES } from "./runtime/registry.js";
export {
  DEFAULT_MAX_SESSION_ID_LENGTH,
  validateSessionId,
  type Session,
  type SessionMetadataFactory,
} from "./runtime/session.js";
export {
  compareEntities,
  TimelineState,
  type Snapshot,
  type SnapshotOptions,
  type TimelineEntity,
  type TimelineView,
} from "./runtime/timeline.js";
export {
  hasErrorRecords,
  hasEventIds,
  hasEventLog,
  hasProjectionCursor,
  hasRuns,
  hasSessionList,
  hasTimelineCatchUp,
  hasTimelineReset,
  isRegistryBound,
  type ApplyBatch,
  type ErrorRecord,
  type ErrorRecordStore,
  type EventIdStore,
  type EventLogStore,
  type EventLookup,
  type HydrationStore,
  type ProjectionCursorStore,
  type RegistryBoundStore,
  type RunEndState,
  type RunRecord,
  type RunState,
  type RunStore,
  type SessionListStore,
  type StoredEvent,
  type TimelineCatchUpStore,
  type TimelineResetStore,
} from "./store/hydration-store.js";
export { MemoryHydrationStore, type MemoryHydrationStoreOptions } from "./store/memory/memory-store.js";
export type {
  AnyAppSchema,
  AppCovers,
  CaseResult,
  CommandHandlerMap,
  DeclaredEntity,
  DeclaredUIEvent,
  EventOf,
  MergeAppSchemas,
  TimelineProjectionCases,
  UIProjectionCases,
} from "./codegen/typed-app.js";
export { createPayloadDecoder } from "./transport/payload-decoder.js";
export { defineApp, type App, type AppRouteContext, type AppRouteHandler } from "./server/app-module.js";
