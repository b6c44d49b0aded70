// Builds table rows from two summaries and checks targets.
import type { Stat } from "./stats.js";
import type { Row, Target } from "./types.js";

export interface RowInput {
  readonly scenario: string;
  readonly size: string;
  readonly metric?: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly ours: Stat;
  readonly baselineName: string;
  readonly baseline: Stat;
  readonly target?: Target;
  readonly note?: string;
}

export function makeRow(input: RowInput): Row {
  const ratio = input.ours.median / input.baseline.median;
  const row: Row = {
    scenario: input.scenario,
    size: input.size,
    metric: input.metric ?? "",
    unit: input.unit,
    higherIsBetter: input.higherIsBetter,
    ours: input.ours,
    baselineName: input.baselineName,
    baseline: input.baseline,
    ratio,
    ...(input.target ? { target: input.target, met: isMet(input.target, ratio, input.ours.median) } : {}),
    ...(input.note ? { note: input.note } : {}),
  };
  return row;
}

function isMet(target: Target, ratio: number, ours: number): boolean {
  const v = target.of === "ratio" ? ratio : ours;
  if (!Number.isFinite(v)) return false;
  return target.op === ">=" ? v >= target.value : v <= target.value;
}

/** "x >= 0.5" / "p99 <= 2 ms" as text. */
export function targetText(target: Target | undefined, unit = ""): string {
  if (!target) return "";
  return target.of === "ratio" ? `ratio ${target.op} ${target.value}` : `${target.op} ${target.value}${unit ? " " + unit : ""}`;
}
