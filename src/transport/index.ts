// Node entry point "sessionstream/transport": the websocket server and the
// HTTP command ingress. The browser-safe client is "sessionstream/client".
export { createWebSocketServer, type SessionstreamWebSocketServer, type TransportStats, type UpgradeSource, type WebSocketServerOptions } from "./websocket-server.js";
export { CloseCode, DEFAULT_TRANSPORT_LIMITS, resolveLimits, type TransportLimits } from "./limits.js";
export type { TransportObserver, TransportRecord, TransportRecordType } from "./observer.js";
export { hostRefusal, isHostAllowed, isLoopbackAddress, isOriginAllowed, type Authorize, type AuthorizeAction, type AuthorizeRequest } from "./security.js";
export { decodeClientFrame, encodeServerFrame, snapshotFrame, type EncodedFrame, type SnapshotExtension } from "./frame-codec.js";
export { resumeSnapshot, type ResumedSnapshot, type ResumeOutcome } from "./resume.js";
export type { TransportHub } from "./transport-hub.js";
export { createCommandIngress, type CommandIngress, type CommandIngressOptions, type IngressErrorReport } from "./http-ingress.js";
export { IdempotencyCache, type IdempotencyOptions } from "./idempotency.js";
export { createPayloadDecoder } from "./payload-decoder.js";
