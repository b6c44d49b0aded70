/**
 * Polls `check` until it returns something other than `undefined`/`false`,
 * then resolves with it; rejects naming `what` after `timeoutMs`.
 */
export async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what = "a condition",
  timeoutMs = 15_000,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
