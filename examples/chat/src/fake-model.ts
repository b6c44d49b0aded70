// A stand-in for a language model: streams a canned answer token by token.
// Replace `answerTokens` and the loop body with a real model call.
import type { AppEventPublisher } from "./gen/app_sessionstream.js";

/** What a model gets from its run: a publisher, and the signal a stop (or shutdown) aborts. */
export interface StreamContext {
  readonly publish: AppEventPublisher["publish"];
  readonly signal: AbortSignal;
}

let tokenDelayMs = Number(process.env["CHAT_TOKEN_DELAY_MS"] ?? 60);

/** Milliseconds between tokens (tests make it small). Default 60, or `CHAT_TOKEN_DELAY_MS`. */
export function setTokenDelay(ms: number): void {
  tokenDelayMs = ms;
}

export function answerTokens(prompt: string): string[] {
  const answer =
    `You asked: "${prompt}". Every event of this session gets the next ordinal, ` +
    `the timeline keeps this message as it grows, and a reload shows exactly what streamed so far.`;
  return answer.split(/(?<= )/);
}

/** Waits one token's delay; rejects at once when the run is stopped. */
function pause(signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, tokenDelayMs);
    function onAbort() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Streams the answer as `ChatTokensDelta` events and resolves with the finish
 * reason; the run's hooks publish how it ended (src/runs/chat-answer.ts). A prompt with
 * the word "fail" in it makes the "model" fail mid-answer, to show how that looks.
 */
export async function streamAnswer({ publish, signal }: StreamContext, messageId: string, prompt: string): Promise<string> {
  const tokens = answerTokens(prompt);
  for (const [i, chunk] of tokens.entries()) {
    await pause(signal);
    if (i === 3 && /\bfail\b/i.test(prompt)) throw new Error("the model endpoint answered 503 Service Unavailable (simulated failure)");
    await publish("ChatTokensDelta", { messageId, chunk });
  }
  return "stop";
}
