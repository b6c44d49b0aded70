// Identifier and path spelling shared by the emitters, so the generated file,
// the stubs and the stub merger agree on every name.
import type { DescFile } from "@bufbuild/protobuf";
import { safeIdentifier } from "./protoplugin.js";

/** Words of a name: `ChatStartInference` / `chat_start-inference` -> `chat start inference`. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "")
    .map((w) => w.toLowerCase());
}

/** `chat_app` -> `ChatApp`. */
export function pascalCase(name: string): string {
  const s = words(name).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** `ChatStartInference` -> `chatStartInference` (a safe identifier). */
export function camelCase(name: string): string {
  const p = pascalCase(name);
  return safeIdentifier(p[0]!.toLowerCase() + p.slice(1));
}

/** `ChatStartInference` -> `chat-start-inference`. */
export function kebabCase(name: string): string {
  return words(name).join("-");
}

/** The plain stem of a proto file, from its base name: `chat/v1/chat.proto` -> `Chat`. */
export function baseStem(file: DescFile): string {
  const base = file.name.split("/").pop() ?? file.name;
  return pascalCase(base);
}

/** The package-qualified stem: `chat/v2/chat.proto` in package `chat.v2` -> `ChatV2Chat`. */
export function qualifiedStem(file: DescFile): string {
  const pkg = file.proto.package;
  return pascalCase(`${pkg === "" ? file.name.split("/").slice(0, -1).join("_") : pkg}_${baseStem(file)}`);
}

/**
 * Stems chosen for the files of one run ({@link assignStems}); files not in
 * it keep their plain stem. Keyed by descriptor, so runs never see each other's.
 */
const assignedStems = new WeakMap<DescFile, string>();

/** Records the stem each file of a run uses (the plugin calls it once it resolved collisions). */
export function assignStems(stems: ReadonlyMap<DescFile, string>): void {
  for (const [file, stem] of stems) assignedStems.set(file, stem);
}

/**
 * The stem of a proto file: `chat/v1/chat.proto` -> `Chat`; prefixes every
 * generated identifier. When several annotated files share a base name, the
 * first (by path) keeps it and the others are package-qualified
 * (`ChatV2Chat`); see {@link assignStems}.
 */
export function fileStem(file: DescFile): string {
  return assignedStems.get(file) ?? baseStem(file);
}

/** The app-level generated file (every annotated file together), relative to the output root. */
export const APP_FILE = "app_sessionstream.ts";

/** Stems the app-level file's identifiers use; a proto file with one of these stems is package-qualified. */
export const RESERVED_STEMS: ReadonlySet<string> = new Set(["App"]);

/** The generated file of a proto file, relative to the output root: `chat/v1/chat_sessionstream.ts`. */
export function generatedFileName(file: DescFile): string {
  return `${file.name}_sessionstream.ts`;
}

/** An object key: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

/** Where stubs go, relative to the stubs directory. */
export const stubPaths = {
  handler: (commandName: string) => `handlers/${kebabCase(commandName)}.ts`,
  uiProjection: (file: DescFile) => `projections/${kebabCase(fileStem(file))}-ui.ts`,
  timelineProjection: (file: DescFile) => `projections/${kebabCase(fileStem(file))}-timeline.ts`,
  app: "app.ts",
} as const;
