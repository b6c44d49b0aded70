// Interleaved measurement: ours, baseline, ours, baseline... after a warm-up,
// with a forced GC before each repetition so one variant's garbage is not
// collected on the other's clock.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { BenchContext } from "./types.js";
import { summarize, type Stat } from "./stats.js";

setFlagsFromString("--expose-gc");
const gcFn = runInNewContext("gc") as (() => void) | undefined;

/** Runs a full GC when possible. */
export function collectGarbage(): void {
  gcFn?.();
}

/** One repetition of one variant: returns the measured value (events/s, ms, bytes...). */
export type Variant = () => Promise<number>;

/**
 * Runs `warmup` then `reps` rounds; each round runs every variant once, in
 * the order given. Returns the summary per variant.
 */
export async function interleave<K extends string>(
  ctx: Pick<BenchContext, "reps" | "warmup" | "log">,
  label: string,
  variants: Record<K, Variant>,
  options: { reps?: number; warmup?: number } = {},
): Promise<Record<K, Stat>> {
  const names = Object.keys(variants) as K[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as unknown as Record<K, number[]>;
  const warmup = options.warmup ?? ctx.warmup;
  const reps = options.reps ?? ctx.reps;
  for (let round = 0; round < warmup + reps; round++) {
    for (const name of names) {
      collectGarbage();
      const value = await variants[name]();
      if (round >= warmup) samples[name].push(value);
    }
  }
  const out = Object.fromEntries(names.map((n) => [n, summarize(samples[n])])) as Record<K, Stat>;
  ctx.log(`  ${label}: ${names.map((n) => `${n}=${fmt(out[n].median)}`).join(" ")}`);
  return out;
}

/** Elapsed milliseconds of `fn` (high-resolution). */
export async function timeMs(fn: () => Promise<void> | void): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);
}
