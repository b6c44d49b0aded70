// Medians, spreads and percentiles.

/** Summary of the repetitions of one variant. */
export interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Half the range (max - min) relative to the median, in percent. */
  readonly spreadPct: number;
  readonly samples: readonly number[];
}

export function summarize(samples: readonly number[]): Stat {
  if (samples.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, spreadPct: Number.NaN, samples: [] };
  const sorted = [...samples].sort((a, b) => a - b);
  const median = percentileSorted(sorted, 50);
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  const spreadPct = median === 0 ? 0 : ((max - min) / 2 / Math.abs(median)) * 100;
  return { median, min, max, spreadPct, samples: [...samples] };
}

/** Percentile of an ascending array (linear interpolation between closest ranks). */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (n === 1) return sorted[0]!;
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}
