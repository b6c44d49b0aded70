// Entry point "sessionstream/testing": a test kit for app authors (usable
// from vitest or any runner; it never imports one). Node only.
export { createTestHub, type RecordedUIEvent, type SettleOptions, type TestAppFactory, type TestAppOptions, type TestHub, type TestHubOptions } from "./test-hub.js";
export {
  checkLiveMatchesSnapshot,
  expectLiveMatchesSnapshot,
  LiveSnapshotMismatchError,
  show,
  type ConsistencyReport,
  type Drift,
  type FaultOptions,
  type LiveSnapshotOptions,
  type ResumeMode,
} from "./oracle.js";
export { canonical, diffEntities, diffJson, type CompareOptions, type EntityDifference } from "./compare.js";
export { SimulatedClient, snapshotFrameOf, uiEventFrames } from "./simulated-client.js";
export type { ClientEntity, ClientUIEvent, PayloadDecoder, TimelineDraft, UIReducer } from "../transport/client/session-view.js";
