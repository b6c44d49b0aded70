/** Reconnect and retry timing. */
export interface BackoffOptions {
  /** First delay. Default 250 ms. */
  readonly initialDelayMs?: number;
  /** Longest delay. Default 10000 ms. */
  readonly maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  readonly factor?: number;
  /** Random spread, as a fraction of the delay (0.2 = plus or minus 20%). Default 0.2. */
  readonly jitter?: number;
}

/** The delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelayMs ?? 250;
  const max = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.2;
  const base = Math.min(max, initial * Math.pow(factor, attempt));
  return Math.max(0, Math.round(base * (1 + jitter * (random() * 2 - 1))));
}
