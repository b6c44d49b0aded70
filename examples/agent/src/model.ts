// Which model drives a run: the scripted fake (the default), or any
// OpenAI-compatible chat-completions endpoint when OPENAI_BASE_URL (or
// OPENAI_API_KEY) and MODEL are set.
import type { AppEventPublisher } from "./gen/app_sessionstream.js";
import { fakeAgent } from "./fake-agent.js";
import { openaiAgent, openaiConfig } from "./openai-agent.js";

/** What a model gets for one run. */
export interface RunContext {
  readonly publisher: AppEventPublisher;
  readonly runId: string;
  readonly prompt: string;
  /** The run's signal, aborted by `AgentStopRun` or a shutdown; the model must stop publishing and reject. */
  readonly signal: AbortSignal;
}

/** A model drives a run: publishes its plan, reasoning, tool calls and answer; resolves with the finish reason. */
export interface AgentModel {
  /** "fake" or the endpoint's model name (shown on the page). */
  readonly name: string;
  run(context: RunContext): Promise<string>;
}

/** The model for new runs, from the environment (read per run, so a restart picks up changes). */
export function currentModel(): AgentModel {
  const config = openaiConfig();
  return config ? openaiAgent(config) : fakeAgent;
}
