// `sessionstream.config.json`: where protos are and where generated code and
// stubs go. Written by `init`; every key is optional.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SessionstreamError } from "../runtime/errors.js";

/** The config file name `gen` looks for in the project directory. */
export const CONFIG_FILE = "sessionstream.config.json";

/**
 * The project config, as written in `sessionstream.config.json` (paths
 * relative to the file's folder):
 *
 * ```json
 * { "protoRoots": ["proto"], "outDir": "src/gen", "stubsDir": "src", "importExtension": "js" }
 * ```
 */
export interface SessionstreamConfig {
  /** Folders whose `.proto` files are compiled. Default `["proto"]`. */
  readonly protoRoots: readonly string[];
  /** Where regenerated code goes (`*_pb.ts`, `*_sessionstream.ts`). Default `src/gen`. */
  readonly outDir: string;
  /** Where user-owned stubs go (handlers/, projections/, app.ts). Default `src`. */
  readonly stubsDir: string;
  /** Extension of relative imports in generated code and stubs: `js`, `ts` or `none`. Default `js`. */
  readonly importExtension: "js" | "ts" | "none";
}

/** The defaults of every key. */
export const DEFAULT_CONFIG: SessionstreamConfig = {
  protoRoots: ["proto"],
  outDir: "src/gen",
  stubsDir: "src",
  importExtension: "js",
};

/** A config with absolute paths, and the project directory it was read from. */
export interface ResolvedConfig extends SessionstreamConfig {
  readonly projectDir: string;
  /** The config file, when there was one. */
  readonly configFile: string | undefined;
}

/**
 * Reads `sessionstream.config.json` from `projectDir` (or `configFile`);
 * defaults when absent. Throws `invalid_argument` naming the bad key.
 */
export function loadConfig(projectDir: string, configFile?: string): ResolvedConfig {
  const dir = resolve(projectDir);
  const file = configFile ? resolve(dir, configFile) : join(dir, CONFIG_FILE);
  let raw: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch (err) {
      throw new SessionstreamError("invalid_argument", `${file}: not valid JSON: ${(err as Error).message}`);
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new SessionstreamError("invalid_argument", `${file}: expected a JSON object`);
    }
  } else if (configFile) {
    throw new SessionstreamError("invalid_argument", `config file ${file} does not exist`);
  }
  const bad = (key: string, expected: string) =>
    new SessionstreamError("invalid_argument", `${file}: "${key}" must be ${expected}`);
  const config: { -readonly [K in keyof SessionstreamConfig]: SessionstreamConfig[K] } = { ...DEFAULT_CONFIG };
  for (const [key, value] of Object.entries(raw)) {
    switch (key) {
      case "$schema":
        break;
      case "protoRoots":
        if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "string")) {
          throw bad(key, "a non-empty array of folder paths");
        }
        config.protoRoots = value as string[];
        break;
      case "outDir":
      case "stubsDir":
        if (typeof value !== "string" || value === "") throw bad(key, "a folder path");
        config[key] = value;
        break;
      case "importExtension":
        if (value !== "js" && value !== "ts" && value !== "none") throw bad(key, `"js", "ts" or "none"`);
        config.importExtension = value;
        break;
      default:
        throw new SessionstreamError(
          "invalid_argument",
          `${file}: unknown key "${key}" (known: protoRoots, outDir, stubsDir, importExtension)`,
        );
    }
  }
  return {
    projectDir: dir,
    configFile: existsSync(file) ? file : undefined,
    protoRoots: config.protoRoots.map((r) => resolve(dir, r)),
    outDir: resolve(dir, config.outDir),
    stubsDir: resolve(dir, config.stubsDir),
    importExtension: config.importExtension,
  };
}
