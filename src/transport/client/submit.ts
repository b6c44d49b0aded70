import { SessionstreamError, type SessionstreamErrorCode } from "../../runtime/errors.js";
import { backoffDelay, type BackoffOptions } from "./backoff.js";

/** The `fetch` the client needs (the global one in browsers and Node 20). */
export type FetchLike = (input: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<{
  readonly status: number;
  text(): Promise<string>;
}>;

/** Options of one submission. */
export interface SubmitOptions {
  /** The key of this logical submission; reuse it to retry it yourself. Default: a fresh random key. */
  readonly idempotencyKey?: string;
  /** Attempts before giving up on network errors and retryable statuses (408, 429, 5xx). Default 5. */
  readonly maxAttempts?: number;
}

/** The ingress's answer to an accepted command. */
export interface SubmitResult {
  readonly status: number;
  readonly idempotencyKey: string;
  /** The answer of an earlier attempt with the same key (the handler did not run again). */
  readonly replayed: boolean;
  readonly body: unknown;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * POSTs a command with one idempotency key for every attempt, so retries after
 * a dropped connection or a restarting server never run the handler twice.
 * Throws a `SessionstreamError` with the server's code on a final failure.
 */
export async function submitCommand(
  fetchImpl: FetchLike,
  baseUrl: string,
  sessionId: string,
  name: string,
  payload: unknown,
  options: SubmitOptions & { headers?: Record<string, string>; backoff?: BackoffOptions; sleep?: (ms: number) => Promise<void> } = {},
): Promise<SubmitResult> {
  if (sessionId === "." || sessionId === "..") {
    // A dot-segment: the URL would be folded into another path. The server refuses these ids everywhere.
    throw new SessionstreamError("invalid_session_id", `session id "${sessionId}" is a URL dot-segment, which HTTP clients fold away; use another id`);
  }
  const key = options.idempotencyKey ?? randomKey();
  const attempts = options.maxAttempts ?? 5;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const url = `${baseUrl}/sessions/${encodeURIComponent(sessionId)}/commands/${encodeURIComponent(name)}`;
  const body = JSON.stringify(payload ?? {});
  let lastError: SessionstreamError | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep(backoffDelay(attempt - 1, options.backoff));
    let status: number;
    let text: string;
    try {
      const res = await fetchImpl(url, {
        method: "POST",
        headers: { ...options.headers, "content-type": "application/json", "idempotency-key": key },
        body,
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      lastError = new SessionstreamError("unavailable", `command "${name}" could not be sent: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      continue;
    }
    const parsed = parseJson(text);
    if (status >= 200 && status < 300) {
      return { status, idempotencyKey: key, replayed: (parsed as { replayed?: boolean } | undefined)?.replayed === true, body: parsed };
    }
    const e = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    lastError = new SessionstreamError((e?.code ?? "internal") as SessionstreamErrorCode, e?.message ?? `HTTP ${status}`);
    (lastError as SessionstreamError & { status?: number }).status = status;
    if (!RETRYABLE.has(status)) break;
  }
  throw lastError ?? new SessionstreamError("unavailable", `command "${name}" failed`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A random idempotency key (crypto.randomUUID where available, e.g. not on plain-http pages). */
export function randomKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string; getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
