// JSON log lines: one object per line, time/level/msg first, fields after,
// levels filtered, bigints and errors made JSON-safe, hub errors keyed by code.
import { describe, expect, test } from "vitest";
import { SessionstreamError } from "../../src/runtime/errors.js";
import { createJsonLogger, logRuntimeError } from "../../src/server/json-log.js";

function capture(level?: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  const logger = createJsonLogger({ write: (l) => lines.push(l), now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6), ...(level ? { level } : {}) });
  return { lines, logger };
}

describe("createJsonLogger", () => {
  test("writes one JSON object per line: time, level, msg, then the fields", () => {
    const { lines, logger } = capture();
    logger.info("listening", { url: "http://x", ordinal: 12345678901234567890n, skip: undefined, msg: "not this" });
    expect(lines).toEqual(['{"time":"2026-01-02T03:04:05.006Z","level":"info","msg":"listening","url":"http://x","ordinal":"12345678901234567890"}']);
  });

  test("drops lines below the level", () => {
    const { lines, logger } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(["w", "e"]);
  });

  test("hub errors are error lines keyed by their code, with where they happened and the cause", () => {
    const { lines, logger } = capture();
    logRuntimeError(logger)({
      kind: "timeline_projection",
      sessionId: "s1",
      ordinal: 7n,
      eventName: "ChatTokensDelta",
      error: new SessionstreamError("projection_failed", "timeline projection failed", { cause: new TypeError("boom") }),
    });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: "error",
      msg: "timeline projection failed",
      code: "projection_failed",
      kind: "timeline_projection",
      sessionId: "s1",
      ordinal: "7",
      eventName: "ChatTokensDelta",
    });
    expect(line["detail"]).toContain("TypeError: boom");
  });
});
