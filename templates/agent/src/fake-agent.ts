// A stand-in for a language model: a scripted run that plans, reasons, calls
// tools (one call fails and is retried), and streams an answer. A prompt with
// "fail" in it makes the "model" fail mid-run, to show how errors look.
import type { AgentModel, RunContext } from "./model.js";
import { runTool } from "./tools.js";

let stepDelayMs = Number(process.env["AGENT_STEP_DELAY_MS"] ?? 60);

/** Milliseconds between streamed chunks (tests make it small). Default 60, or `AGENT_STEP_DELAY_MS`. */
export function setStepDelay(ms: number): void {
  stepDelayMs = ms;
}

function pause(signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, stepDelayMs);
    function onAbort() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The city a prompt asks about ("... in Lisbon ..."); Paris by default. */
export function cityOf(prompt: string): string {
  return /\bin ([A-Z][a-z]+)/.exec(prompt)?.[1] ?? "Paris";
}

/** The final answer the fake model streams for `prompt`, in chunks. */
export function answerChunks(prompt: string): string[] {
  const weather = JSON.parse(runTool("get_weather", JSON.stringify({ city: cityOf(prompt) }))) as { city: string; tempC: number; sky: string };
  const fahrenheit = JSON.parse(runTool("calculator", JSON.stringify({ expression: `${weather.tempC} * 9 / 5 + 32` }))) as { value: number };
  return `It is ${weather.tempC} °C (${fahrenheit.value} °F) and ${weather.sky} in ${weather.city}.`.split(/(?<= )/);
}

async function stream(ctx: RunContext, send: (chunk: string) => Promise<unknown>, text: string): Promise<void> {
  for (const chunk of text.split(/(?<= )/)) {
    await pause(ctx.signal);
    await send(chunk);
  }
}

async function callTool(ctx: RunContext, callId: string, tool: string, args: string, planStep: number): Promise<string | undefined> {
  const { publisher, runId } = ctx;
  await publisher.publish("AgentToolCallStarted", { runId, callId, tool, arguments: "", planStep });
  // Arguments arrive in pieces, as a real model streams them.
  const half = Math.ceil(args.length / 2);
  for (const chunk of [args.slice(0, half), args.slice(half)]) {
    await pause(ctx.signal);
    await publisher.publish("AgentToolCallArgumentsDelta", { runId, callId, chunk });
  }
  await pause(ctx.signal);
  try {
    const result = runTool(tool, args);
    await publisher.publish("AgentToolCallFinished", { runId, callId, result });
    return result;
  } catch (err) {
    await publisher.publish("AgentToolCallFinished", { runId, callId, error: (err as Error).message });
    return undefined;
  }
}

/** The scripted model. */
export const fakeAgent: AgentModel = {
  name: "fake",
  async run(ctx) {
    const { publisher, runId, prompt } = ctx;
    const city = cityOf(prompt);
    const steps = [`Look up the weather in ${city}`, "Convert °C to °F", "Answer"];
    await publisher.publish("AgentPlanUpdated", { runId, steps: steps.map((title) => ({ title, status: "pending" })) });
    const think = (segment: string) => (chunk: string) => publisher.publish("AgentReasoningDelta", { runId, segmentId: `${runId}-${segment}`, chunk });
    await stream(ctx, think("r1"), `The task asks about the weather in ${city}. I will look it up, then convert the temperature.`);

    const weather = JSON.parse((await callTool(ctx, `${runId}-c1`, "get_weather", JSON.stringify({ city }), 0))!) as { tempC: number };
    if (/\bfail\b/i.test(prompt)) throw new Error("the model endpoint answered 503 Service Unavailable (simulated failure)");
    // The first conversion uses "×", which the calculator refuses: the error shows on the call, and the agent retries.
    await callTool(ctx, `${runId}-c2`, "calculator", JSON.stringify({ expression: `${weather.tempC} × 9 / 5 + 32` }), 1);
    await stream(ctx, think("r2"), "The calculator only takes ASCII operators; retrying with *.");
    await callTool(ctx, `${runId}-c3`, "calculator", JSON.stringify({ expression: `${weather.tempC} * 9 / 5 + 32` }), 1);

    const messageId = `answer-${runId}`;
    for (const chunk of answerChunks(prompt)) {
      await pause(ctx.signal);
      await publisher.publish("AgentAnswerDelta", { runId, messageId, chunk });
    }
    return "stop";
  },
};
