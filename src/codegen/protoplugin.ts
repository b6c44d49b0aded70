// @bufbuild/protoplugin loaded through `require`: its CommonJS build pulls in
// TypeScript without Node's ESM scan of CommonJS exports (about half a
// second per `gen` run), and it is the same instance protoc-gen-es uses.
import { createRequire } from "node:module";

const protoplugin = createRequire(import.meta.url)("@bufbuild/protoplugin") as typeof import("@bufbuild/protoplugin");

export const { createEcmaScriptPlugin, getComments, runNodeJs, safeIdentifier } = protoplugin;
