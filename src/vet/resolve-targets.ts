import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import type { Finding } from "./diagnostic.js";
import { collectInputs } from "./inputs.js";
import type { ProtoVetInput } from "./proto/vet-protos.js";
import { isWithin } from "./proto/vet-protos.js";
import type { TypeScriptVetInput } from "./ts/vet-typescript.js";

/** What one run checks, derived from the command line and config. */
export interface VetTargets {
  readonly typescript?: TypeScriptVetInput;
  readonly protos?: ProtoVetInput;
  /** Inputs that could not be found (reported as `config-error`). */
  readonly problems: Finding[];
}

/** Options of {@link resolveTargets}. */
export interface ResolveTargetsOptions {
  readonly cwd: string;
  /** Files or folders; empty means "the project": tsconfig.json plus the proto roots. */
  readonly paths: readonly string[];
  /** tsconfig.json to use in project mode. Default `./tsconfig.json` (skipped when absent). */
  readonly project?: string;
  /** Proto roots from config (absolute). Default: `./proto` when it exists. */
  readonly protoRoots?: readonly string[];
}

/** Turns the command line into the TypeScript and proto inputs to vet. */
export function resolveTargets(options: ResolveTargetsOptions): VetTargets {
  const { cwd } = options;
  const problems: Finding[] = [];
  const configuredRoots = options.protoRoots ?? (existsSync(join(cwd, "proto")) ? [join(cwd, "proto")] : []);

  if (options.paths.length === 0) {
    const tsconfig = resolve(cwd, options.project ?? "tsconfig.json");
    // An explicit --project must exist; the default tsconfig.json is optional (a protos-only repo).
    const typescript: TypeScriptVetInput | undefined =
      options.project !== undefined || existsSync(tsconfig) ? { kind: "tsconfig", tsconfig } : undefined;
    const roots = configuredRoots.filter((root) => {
      if (existsSync(root)) return true;
      problems.push({ ruleId: "config-error", file: root, message: `proto root ${root} does not exist` });
      return false;
    });
    if (!typescript && roots.length === 0 && problems.length === 0) {
      problems.push({ ruleId: "config-error", file: cwd, message: `nothing to check in ${cwd}: no tsconfig.json and no proto/ folder (pass files or folders)` });
    }
    return { ...(typescript ? { typescript } : {}), ...(roots.length ? { protos: { roots, cwd } } : {}), problems };
  }

  const inputs = collectInputs(cwd, options.paths);
  for (const missing of inputs.missing) problems.push({ ruleId: "config-error", file: missing, message: `cannot read ${missing}: no such file or folder` });
  const only = [...inputs.protoDirs, ...inputs.protoFiles.filter((f) => !inputs.protoDirs.some((d) => isWithin(f, d)))];
  const roots = outermost(only.map((p) => rootFor(p, configuredRoots)));
  return {
    ...(inputs.tsFiles.length ? { typescript: { kind: "files", files: inputs.tsFiles } } : {}),
    ...(roots.length ? { protos: { roots, only, cwd } } : {}),
    problems,
  };
}

// A configured root that contains the path wins; else a folder is its own root,
// and a file's root is found from its `package` (app.v1 in .../app/v1/x.proto).
function rootFor(path: string, configuredRoots: readonly string[]): string {
  const configured = configuredRoots.find((root) => isWithin(path, root));
  if (configured) return configured;
  if (!path.endsWith(".proto")) return path;
  const dir = dirname(path);
  try {
    const pkg = /^\s*package\s+([\w.]+)\s*;/m.exec(readFileSync(path, "utf8"))?.[1];
    const suffix = pkg ? sep + pkg.split(".").join(sep) : undefined;
    if (suffix && dir.endsWith(suffix)) return dir.slice(0, -suffix.length) || sep;
  } catch {
    // Unreadable: the compiler reports it.
  }
  return dir;
}

function outermost(roots: readonly string[]): string[] {
  const unique = [...new Set(roots)];
  return unique.filter((root) => !unique.some((other) => other !== root && isWithin(root, other)));
}
