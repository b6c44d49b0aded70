import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { findRule, type Severity } from "./rules.js";

/** Name of the project config file shared with `sessionstream gen`. */
export const CONFIG_FILE_NAME = "sessionstream.config.json";

/** A rule setting in config: turn it off or force a severity. */
export type RuleSetting = "off" | "warn" | "error";

/** The `schemaVet` part of `sessionstream.config.json`, resolved. */
export interface VetConfig {
  /** Absolute path of the config file, when one was read. */
  readonly file?: string;
  /** Per-rule overrides, by rule id. */
  readonly rules: ReadonlyMap<string, RuleSetting>;
  /**
   * Proto roots (absolute): `schemaVet.protoRoots`, else the top-level
   * `protoRoots` that `gen` reads, else `undefined` (callers default to `proto/`).
   */
  readonly protoRoots?: readonly string[];
}

/** Result of {@link loadVetConfig}: the config plus problems that make the run exit 2. */
export interface LoadedVetConfig {
  readonly config: VetConfig;
  readonly problems: readonly string[];
}

/**
 * Reads `schemaVet` from `sessionstream.config.json` in `cwd` (or `file`).
 * Only this tool's own key (and the shared proto roots) are read, so other
 * verbs may add their keys freely. A missing default file is not an error.
 */
export function loadVetConfig(cwd: string, file?: string): LoadedVetConfig {
  const path = resolve(cwd, file ?? CONFIG_FILE_NAME);
  if (!existsSync(path)) {
    return file === undefined
      ? { config: { rules: new Map() }, problems: [] }
      : { config: { rules: new Map() }, problems: [`config file ${path} does not exist`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    return { config: { file: path, rules: new Map() }, problems: [`cannot read ${path}: ${(err as Error).message}`] };
  }
  return parseVetConfig(json, path);
}

/** Validates the parsed JSON of a config file; unknown rule ids and settings are problems. */
export function parseVetConfig(json: unknown, path: string): LoadedVetConfig {
  const problems: string[] = [];
  const rules = new Map<string, RuleSetting>();
  const base = dirname(path);
  if (!isObject(json)) return { config: { file: path, rules }, problems: [`${path}: expected a JSON object`] };
  const vet = json["schemaVet"];
  let protoRoots: string[] | undefined;
  if (vet !== undefined && !isObject(vet)) problems.push(`${path}: "schemaVet" must be an object`);
  if (isObject(vet)) {
    const ruleSettings = vet["rules"];
    if (ruleSettings !== undefined && !isObject(ruleSettings)) problems.push(`${path}: "schemaVet.rules" must be an object`);
    for (const [id, setting] of Object.entries(isObject(ruleSettings) ? ruleSettings : {})) {
      const info = findRule(id);
      if (!info) problems.push(`${path}: unknown rule "${id}" in schemaVet.rules`);
      else if (info.fatal) problems.push(`${path}: rule "${id}" reports unreadable input and cannot be configured`);
      else if (setting !== "off" && setting !== "warn" && setting !== "error")
        problems.push(`${path}: schemaVet.rules["${id}"] must be "off", "warn" or "error", got ${JSON.stringify(setting)}`);
      else rules.set(id, setting);
    }
    protoRoots = stringList(vet["protoRoots"], `${path}: "schemaVet.protoRoots"`, problems);
  }
  // `gen` owns the top-level keys; only a plain list of roots is borrowed here.
  protoRoots ??= stringList(json["protoRoots"], undefined, problems);
  const config: VetConfig = protoRoots
    ? { file: path, rules, protoRoots: protoRoots.map((r) => resolve(base, r)) }
    : { file: path, rules };
  return { config, problems };
}

/** The effective severity of `ruleId` under `config`, or `"off"`. */
export function effectiveSeverity(config: VetConfig, ruleId: string, defaultSeverity: Severity): Severity | "off" {
  const setting = config.rules.get(ruleId);
  if (setting === undefined) return defaultSeverity;
  return setting === "warn" ? "warning" : setting;
}

function stringList(value: unknown, label: string | undefined, problems: string[]): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  if (label) problems.push(`${label} must be an array of strings`);
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
