// protoc-gen-sessionstream: a protoc plugin value. Runs under protoc and
// `buf generate` (bin/protoc-gen-sessionstream.js) and in-process from
// `sessionstream gen` (Plugin.run on a CodeGeneratorRequest).
import type { Plugin, Schema } from "@bufbuild/protoplugin";
import { createEcmaScriptPlugin } from "./protoplugin.js";
import { posix } from "node:path";
import type { DescFile } from "@bufbuild/protobuf";
import { AnnotationError, formatPosition, isAnnotated, readAnnotations, type AnnotationDiagnostic, type FileModel } from "./annotations.js";
import { emitAppFile, hoistAppHeader } from "./emit-app-file.js";
import { emitSchemaFile } from "./emit-schema-file.js";
import { APP_FILE, assignStems, baseStem, generatedFileName, qualifiedStem, RESERVED_STEMS } from "./names.js";
import { stubFiles, type StubImports } from "./stub-templates.js";

/** The plugin's own options (beside protoplugin's standard ones such as `target` and `import_extension`). */
export interface SessionstreamPluginOptions {
  /** `runtime_import=<module>`: where generated code imports the runtime from. Default `sessionstream`. */
  readonly runtimeImport: string;
  /**
   * `stubs=<dir>`: also emit the user-owned stubs under `<dir>` (relative to
   * the output dir). Default: no stubs. Under protoc/buf they are rewritten on
   * every run, so point this at a scratch folder; `sessionstream gen` writes
   * stubs itself, only when missing, and merges new cases into existing ones.
   */
  readonly stubs: string | undefined;
}

/** The plugin version written into the `@generated` preamble. */
export const PLUGIN_VERSION = "v0.1.0";

/** Parses `runtime_import` and `stubs`; throws on any other key (the exact text is tested). */
export function parseSessionstreamOptions(raw: ReadonlyArray<{ key: string; value: string }>): SessionstreamPluginOptions {
  let runtimeImport = "sessionstream";
  let stubs: string | undefined;
  for (const { key, value } of raw) {
    switch (key) {
      case "runtime_import":
        if (value === "") throw new Error("option runtime_import needs a module name, e.g. runtime_import=sessionstream");
        runtimeImport = value;
        break;
      case "stubs": {
        const dir = posix.normalize(value).replace(/\/+$/, "");
        if (value === "" || dir.startsWith("..") || posix.isAbsolute(dir)) {
          throw new Error(`option stubs=${value}: expected a relative folder inside the output dir, e.g. stubs=stubs`);
        }
        stubs = dir;
        break;
      }
      default:
        throw new Error(`unknown option "${key}" (protoc-gen-sessionstream accepts runtime_import, stubs and the standard protoplugin options)`);
    }
  }
  return { runtimeImport, stubs };
}

const plugin = createEcmaScriptPlugin({
  name: "protoc-gen-sessionstream",
  version: PLUGIN_VERSION,
  parseOptions: parseSessionstreamOptions,
  generateTs,
});

/**
 * The `protoc-gen-sessionstream` plugin. Its `run` puts the `@generated`
 * header of the app-level file first, where the per-file files have theirs
 * (protoplugin writes a header first only for a file generated from one
 * proto file, and `gen` recognises its files by that leading header).
 */
export const protocGenSessionstream: Plugin = {
  name: plugin.name,
  version: plugin.version,
  run: (request) => hoistAppHeader(plugin.run(request)),
};

function generateTs(schema: Schema<SessionstreamPluginOptions>): void {
  const models = annotatedModels(schema.files, schema.allFiles);
  for (const model of models) emitSchemaFile(schema, model, { runtimeImport: schema.options.runtimeImport });
  if (models.length) emitAppFile(schema, models, { runtimeImport: schema.options.runtimeImport }, PLUGIN_VERSION);
  const stubsDir = schema.options.stubs;
  if (stubsDir !== undefined && models.length) {
    const ext = schema.options.importExtension;
    const imports: StubImports = {
      runtime: schema.options.runtimeImport,
      generated: (from, model) => relativeSpecifier(`${stubsDir}/${from}`, generatedFileName(model.file), ext),
      app: (from) => relativeSpecifier(`${stubsDir}/${from}`, APP_FILE, ext),
      stub: (from, to) => relativeSpecifier(`${stubsDir}/${from}`, `${stubsDir}/${to}`, ext),
      displayPath: (stub) => `${stubsDir}/${stub}`,
    };
    for (const stub of stubFiles(models, imports)) {
      // Stubs are plain text; their imports are spelled by the template (they are user code from now on).
      schema.generateFile(`${stubsDir}/${stub.path}`).print(stub.content.replace(/\n$/, ""));
    }
  }
}

/**
 * The annotated files among `files` (validated against `allFiles`), each with
 * a unique identifier stem: files sharing a base name (`chat/v1/chat.proto`,
 * `chat/v2/chat.proto`) are told apart by package, the first by path keeping
 * the plain stem (`Chat`, then `ChatV2Chat`); a file whose stem is reserved
 * for the app-level file (`App`) is package-qualified too. Throws
 * {@link AnnotationError} with `file:line:col` and the fix when names still
 * collide.
 */
export function annotatedModels(files: readonly Schema["files"][number][], allFiles: readonly Schema["files"][number][]): FileModel[] {
  const models = readAnnotations(files, allFiles).filter(isAnnotated);
  const diagnostics: AnnotationDiagnostic[] = [];
  const stems = new Map<DescFile, string>();
  const byStem = new Map<string, FileModel>();
  const byPath = [...models].sort((a, b) => (a.file.name < b.file.name ? -1 : a.file.name > b.file.name ? 1 : 0));
  for (const m of byPath) {
    const at = { file: `${m.file.name}.proto`, line: 1, column: 1 };
    if (generatedFileName(m.file) === APP_FILE) {
      diagnostics.push({
        ...at,
        message: `${m.file.name}.proto would generate ${APP_FILE}, the app-level file of every annotated proto; move it into a package folder (e.g. app/v1/app.proto)`,
      });
      continue;
    }
    let stem = baseStem(m.file);
    if (byStem.has(stem) || RESERVED_STEMS.has(stem)) stem = qualifiedStem(m.file);
    const prev = byStem.get(stem);
    if (prev) {
      const prevAt = { file: `${prev.file.name}.proto`, line: 1, column: 1 };
      diagnostics.push({
        ...at,
        message:
          `this file and ${formatPosition(prevAt)} both generate identifiers prefixed "${stem}" ` +
          `(files sharing a base name are told apart by package, and these cannot be); rename one of the files`,
        related: prevAt,
      });
      continue;
    }
    byStem.set(stem, m);
    stems.set(m.file, stem);
  }
  if (diagnostics.length) throw new AnnotationError(diagnostics);
  assignStems(stems);
  return models;
}

/** An import specifier from the file `from` to the file `to` (both relative to one root), with the import extension. */
export function relativeSpecifier(from: string, to: string, ext: "none" | "js" | "ts"): string {
  let rel = posix.relative(posix.dirname(from), to);
  if (!rel.startsWith(".")) rel = `./${rel}`;
  const base = rel.replace(/\.ts$/, "");
  return ext === "none" ? base : `${base}.${ext}`;
}
