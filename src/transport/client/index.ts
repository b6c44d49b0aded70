// Browser-safe entry point "sessionstream/client": no Node imports, no bare
// module specifiers, so the compiled files load as plain ES modules in a page.
export { SessionstreamClient, createSessionstreamClient, type ConnectionStatus, type SessionstreamClientOptions, type WebSocketConstructor, type WebSocketLike } from "./client.js";
export {
  SessionView,
  type ClientEntity,
  type ClientUIEvent,
  type PayloadDecoder,
  type ResumeInfo,
  type SessionStatus,
  type SessionViewState,
  type SubscribeOptions,
  type TimelineDraft,
  type UIReducer,
} from "./session-view.js";
export { submitCommand, randomKey, type FetchLike, type SubmitOptions, type SubmitResult } from "./submit.js";
export { backoffDelay, type BackoffOptions } from "./backoff.js";
export { decodeServerFrame, type AnyJson, type Json, type JsonRecord, type WireEntity, type WireResumeKind, type WireServerFrame } from "./wire.js";
export { SessionstreamError, type SessionstreamErrorCode } from "../../runtime/errors.js";
