// The tools the agent may call. Both models use them: the fake one follows a
// script, a real one (OPENAI_BASE_URL / MODEL) chooses them itself.

/** A tool as an OpenAI-compatible endpoint describes it (JSON Schema parameters). */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;
}

export const TOOLS: readonly ToolDefinition[] = [
  {
    name: "get_weather",
    description: "The current weather in a city: temperature in °C and the sky.",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
  {
    name: "calculator",
    description: "Evaluates an arithmetic expression with + - * / and parentheses (ASCII operators only).",
    parameters: { type: "object", properties: { expression: { type: "string" } }, required: ["expression"] },
  },
];

/**
 * Runs a tool with its JSON arguments and returns the JSON text of the
 * result. Throws (with a message the model and the page can show) on unknown
 * tools, bad JSON and bad arguments.
 */
export function runTool(name: string, argumentsJson: string): string {
  let args: Record<string, unknown>;
  try {
    args = JSON.parse(argumentsJson || "{}") as Record<string, unknown>;
  } catch {
    throw new Error(`arguments of ${name} are not JSON: ${argumentsJson}`);
  }
  switch (name) {
    case "get_weather": {
      const city = String(args["city"] ?? "");
      if (!city) throw new Error("get_weather needs a city");
      // A stand-in for a weather API: the same city always gets the same weather.
      const tempC = 12 + ([...city].reduce((n, c) => n + c.charCodeAt(0), 0) % 15);
      return JSON.stringify({ city, tempC, sky: tempC > 18 ? "sunny" : "cloudy" });
    }
    case "calculator": {
      const expression = String(args["expression"] ?? "");
      const bad = /[^\d\s+\-*/().]/.exec(expression);
      if (bad) throw new Error(`unsupported character "${bad[0]}" in ${JSON.stringify(expression)}`);
      const value = Function(`"use strict"; return (${expression});`)() as number;
      if (!Number.isFinite(value)) throw new Error(`${expression} is not a finite number`);
      return JSON.stringify({ value: Math.round(value * 100) / 100 });
    }
    default:
      throw new Error(`unknown tool "${name}"`);
  }
}
