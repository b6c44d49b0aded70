// Shapes shared by the runner and the scenarios.
import type { Stat } from "./stats.js";

/** Options every scenario receives. */
export interface BenchContext {
  /** Small sizes and fewer repetitions (CI smoke run, whole suite under 2 minutes). */
  readonly quick: boolean;
  /** Measured repetitions per variant (after warm-up). */
  readonly reps: number;
  /** Warm-up repetitions per variant (discarded). */
  readonly warmup: number;
  /** Progress lines (stderr). */
  log(line: string): void;
}

/** A goal the issue sets: `ratio >= 0.5`, `ours <= 2`, ... */
export interface Target {
  /** What is compared: the ratio ours/baseline or the absolute value of ours. */
  readonly of: "ratio" | "ours";
  readonly op: ">=" | "<=";
  readonly value: number;
}

/** One line of the result table. */
export interface Row {
  readonly scenario: string;
  /** The size axis of this line, e.g. "1000 sessions". */
  readonly size: string;
  /** What is measured when a scenario reports several metrics per size (e.g. "p99"). */
  readonly metric: string;
  readonly unit: string;
  /** Whether a larger value is better (throughput) or worse (time, memory). */
  readonly higherIsBetter: boolean;
  readonly ours: Stat;
  readonly baselineName: string;
  readonly baseline: Stat;
  /** median(ours) / median(baseline). */
  readonly ratio: number;
  readonly target?: Target;
  /** Whether the target is met (absent without a target). */
  readonly met?: boolean;
  readonly note?: string;
}

/** One benchmark scenario: one file in bench/scenarios. */
export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** What ours and the baseline are, in one or two sentences (goes into the JSON). */
  readonly description: string;
  run(ctx: BenchContext): Promise<Row[]>;
}
