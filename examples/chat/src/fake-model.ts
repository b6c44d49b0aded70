// A stand-in for a language model: streams a canned answer token by token.
// Replace `answerTokens` and the loop body with a real model call.
import type { AppEventPublisher } from "./gen/app_sessionstream.js";

/** Publishes any event of the app (every proto file's), payloads type-checked. */
type Publisher = AppEventPublisher;

let tokenDelayMs = Number(process.env["CHAT_TOKEN_DELAY_MS"] ?? 60);
const stopRequests = new Set<string>();

/** Milliseconds between tokens (tests make it small). Default 60, or `CHAT_TOKEN_DELAY_MS`. */
export function setTokenDelay(ms: number): void {
  tokenDelayMs = ms;
}

/** Asks the run streaming `messageId` to stop at its next token. */
export function requestStop(messageId: string): void {
  stopRequests.add(messageId);
}

export function answerTokens(prompt: string): string[] {
  const answer =
    `You asked: "${prompt}". Every event of this session gets the next ordinal, ` +
    `the timeline keeps this message as it grows, and a reload shows exactly what streamed so far.`;
  return answer.split(/(?<= )/);
}

/**
 * Streams the answer as `ChatTokensDelta` events, then `ChatInferenceFinished`
 * (or `ChatInferenceStopped` when asked to stop). Runs detached from the
 * command and from any socket: closing the page never stops it.
 */
export async function streamAnswer(publisher: Publisher, messageId: string, prompt: string): Promise<void> {
  try {
    for (const chunk of answerTokens(prompt)) {
      await new Promise((resolve) => setTimeout(resolve, tokenDelayMs));
      if (stopRequests.delete(messageId)) {
        await publisher.publish("ChatInferenceStopped", { messageId });
        return;
      }
      await publisher.publish("ChatTokensDelta", { messageId, chunk });
    }
    await publisher.publish("ChatInferenceFinished", { messageId });
  } catch (err) {
    // The hub closed under us (dev reload, shutdown): the partial answer is already durable.
    console.warn(`chat: stream of ${messageId} ended early: ${(err as Error).message}`);
  }
}
