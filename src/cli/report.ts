import { SessionstreamError } from "../runtime/errors.js";

/** Prints an error the way every verb does (`error: <message>`) and sets the exit code. */
export function failWith(err: unknown, exitCode: number): void {
  const e = SessionstreamError.from(err);
  console.error(`error: ${e.message}`);
  process.exitCode = exitCode;
}
