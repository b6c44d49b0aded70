// Runs the scenarios, collects rows, writes the JSON result.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { PACKAGE_SOURCE, staleDistWarning } from "./pkg.js";
import { machineInfo, type MachineInfo } from "./report.js";
import type { BenchContext, Row, Scenario } from "./types.js";

/** Scenario files in bench/scenarios, in run order. */
export const SCENARIOS = ["hub-memory", "hub-sqlite", "load", "fanout", "latency", "cluster", "hydration", "codegen", "schema-vet", "memory"] as const;

export interface RunOptions {
  readonly quick?: boolean;
  /** Run the scenarios named here (exact name), or whose name contains one of these strings. Default: all. */
  readonly filter?: readonly string[];
  /** Measured repetitions per variant. Default 5 (quick: 2). */
  readonly reps?: number;
  /** Warm-up repetitions per variant. Default 1. */
  readonly warmup?: number;
  /** Where to write the JSON result; `null` to skip. Default `bench/results/latest.json`. */
  readonly out?: string | null;
  readonly log?: (line: string) => void;
}

export interface ScenarioResult {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly seconds: number;
  /** Set when the scenario threw; its rows are then missing. */
  readonly error?: string;
}

export interface BenchResult {
  readonly machine: MachineInfo;
  /** Where the runtime under test was loaded from: the built package (dist/, default) or src/ through tsx. */
  readonly packageSource: "dist" | "src";
  /** Set when dist/ was older than src/ at run time. */
  readonly warning?: string;
  readonly options: { readonly quick: boolean; readonly reps: number; readonly warmup: number; readonly filter: readonly string[] };
  readonly scenarios: readonly ScenarioResult[];
  readonly rows: readonly Row[];
  readonly seconds: number;
}

/** Scenario names that exist (file present) and match `filter`. */
export async function loadScenarios(filter: readonly string[] = []): Promise<Scenario[]> {
  const out: Scenario[] = [];
  // A filter equal to a scenario name selects only that one; otherwise it matches substrings.
  const matches = (name: string) => filter.some((f) => ((SCENARIOS as readonly string[]).includes(f) ? name === f : name.includes(f)));
  for (const name of SCENARIOS) {
    if (filter.length > 0 && !matches(name)) continue;
    let mod: { scenario?: Scenario };
    try {
      mod = (await import(`../scenarios/${name}.js`)) as { scenario?: Scenario };
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_MODULE_NOT_FOUND" && String((err as Error).message).includes(`scenarios/${name}`)) continue;
      throw err;
    }
    if (mod.scenario) out.push(mod.scenario);
  }
  return out;
}

export async function runBench(options: RunOptions = {}): Promise<BenchResult> {
  const quick = options.quick ?? false;
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const ctx: BenchContext = {
    quick,
    reps: options.reps ?? (quick ? 2 : 5),
    warmup: options.warmup ?? 1,
    log,
  };
  const filter = options.filter ?? [];
  const scenarios = await loadScenarios(filter);
  const warning = staleDistWarning();
  if (warning) log(`warning: ${warning}`);
  const started = Date.now();
  const rows: Row[] = [];
  const results: ScenarioResult[] = [];
  for (const s of scenarios) {
    log(`# ${s.name}: ${s.title}`);
    const t0 = Date.now();
    try {
      rows.push(...(await s.run(ctx)));
      results.push({ name: s.name, title: s.title, description: s.description, seconds: (Date.now() - t0) / 1000 });
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      log(`  FAILED: ${message}`);
      results.push({ name: s.name, title: s.title, description: s.description, seconds: (Date.now() - t0) / 1000, error: message });
    }
  }
  const result: BenchResult = {
    machine: machineInfo(),
    packageSource: PACKAGE_SOURCE,
    ...(warning ? { warning } : {}),
    options: { quick, reps: ctx.reps, warmup: ctx.warmup, filter },
    scenarios: results,
    rows,
    seconds: (Date.now() - started) / 1000,
  };
  const out = options.out === undefined ? "bench/results/latest.json" : options.out;
  if (out !== null) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  }
  return result;
}
