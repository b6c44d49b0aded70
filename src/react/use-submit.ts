import { useCallback, useMemo, useRef, useState } from "react";
import { SessionstreamError, randomKey } from "../transport/client/index.js";
import type { SessionstreamClient, SubmitResult } from "../transport/client/index.js";
import { useSessionstreamClient } from "./context.js";

/** Options of one submission through {@link useSubmit}. */
export interface UseSubmitCallOptions {
  /** The key of this logical submission. Default: a fresh random key per `submit` call. */
  readonly idempotencyKey?: string;
  /** Attempts the client makes on network errors and 408/429/5xx, all with the same key. Default 5. */
  readonly maxAttempts?: number;
}

/** A submission as {@link useSubmit} remembers it, for `retry`. */
export interface Submission {
  readonly name: string;
  readonly payload: unknown;
  readonly idempotencyKey: string;
}

/** What {@link useSubmit} returns. The functions keep their identity across renders (for the same client and session). */
export interface UseSubmitResult {
  /**
   * Submits a command over the HTTP ingress with one idempotency key (a fresh
   * one per call unless given); the client's own retries reuse it, so the
   * handler runs once. Resolves with the ingress's answer, rejects with a
   * `SessionstreamError` (also kept in `error`).
   */
  submit(name: string, payload: unknown, options?: UseSubmitCallOptions): Promise<SubmitResult>;
  /**
   * Sends the last submission again with the same idempotency key (a "Retry"
   * button after a failure): when the first attempt did reach the handler, the
   * ingress answers with its result (`replayed: true`) instead of running it
   * again. Rejects with `invalid_argument` when nothing was submitted yet.
   */
  retry(options?: Omit<UseSubmitCallOptions, "idempotencyKey">): Promise<SubmitResult>;
  /** True while a submission of this hook is in flight. */
  readonly pending: boolean;
  /** The failure of the last submission; cleared when one starts. */
  readonly error: Error | undefined;
  /** The last submission started, with its key. */
  readonly last: Submission | undefined;
}

/** Options of {@link useSubmit}. */
export interface UseSubmitOptions {
  /** The client to use instead of the {@link SessionstreamProvider}'s. */
  readonly client?: SessionstreamClient;
}

/** Submits commands to a session with idempotency keys: one key per logical submission, reused on every retry. */
export function useSubmit(sessionId: string, options: UseSubmitOptions = {}): UseSubmitResult {
  const client = useSessionstreamClient(options.client);
  const [inFlight, setInFlight] = useState(0);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [last, setLast] = useState<Submission | undefined>(undefined);
  const lastRef = useRef<Submission | undefined>(undefined);

  const send = useCallback(
    async (submission: Submission, maxAttempts: number | undefined): Promise<SubmitResult> => {
      lastRef.current = submission;
      setLast(submission);
      setError(undefined);
      setInFlight((n) => n + 1);
      try {
        return await client.submit(sessionId, submission.name, submission.payload, {
          idempotencyKey: submission.idempotencyKey,
          ...(maxAttempts !== undefined ? { maxAttempts } : {}),
        });
      } catch (err) {
        if (lastRef.current === submission) setError(err instanceof Error ? err : new Error(String(err)));
        throw err;
      } finally {
        setInFlight((n) => n - 1);
      }
    },
    [client, sessionId],
  );

  const submit = useCallback(
    (name: string, payload: unknown, opts: UseSubmitCallOptions = {}) =>
      send({ name, payload, idempotencyKey: opts.idempotencyKey ?? randomKey() }, opts.maxAttempts),
    [send],
  );

  const retry = useCallback(
    async (opts: Omit<UseSubmitCallOptions, "idempotencyKey"> = {}) => {
      const previous = lastRef.current;
      if (!previous) {
        throw new SessionstreamError("invalid_argument", "nothing to retry: no command was submitted through this hook yet");
      }
      return send(previous, opts.maxAttempts);
    },
    [send],
  );

  return useMemo(() => ({ submit, retry, pending: inFlight > 0, error, last }), [submit, retry, inFlight, error, last]);
}
