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

/** The stem of a proto file: `chat/v1/chat.proto` -> `Chat`; prefixes every generated identifier. */
export function fileStem(file: DescFile): string {
  const base = file.name.split("/").pop() ?? file.name;
  return pascalCase(base);
}

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
