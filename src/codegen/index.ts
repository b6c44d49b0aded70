// `sessionstream/codegen`: the plugin and the gen pipeline (Node only).
export {
  AnnotationError,
  formatDiagnostic,
  readAnnotations,
  type AnnotationDiagnostic,
  type CommandModel,
  type EntityModel,
  type EventModel,
  type FileModel,
  type SourcePosition,
  type UIEventModel,
} from "./annotations.js";
export { compileProtos, ProtoCompileError, SESSIONSTREAM_PROTO_DIR, type CompiledProtos, type CompileProtosOptions, type ProtoDiagnostic } from "./compile-protos.js";
export { CONFIG_FILE, DEFAULT_CONFIG, loadConfig, type ResolvedConfig, type SessionstreamConfig } from "./config.js";
export { esPluginParameter, runGen, sessionstreamPluginParameter, type GenFileReport, type GenOptions, type GenResult } from "./gen.js";
export { parseSessionstreamOptions, PLUGIN_VERSION, protocGenSessionstream, type SessionstreamPluginOptions } from "./plugin.js";
export { watchGen, type GenWatch, type WatchGenOptions } from "./watch.js";
