import type { Severity } from "./rules.js";

/** A 1-based source range. */
export interface SourceRange {
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/** What an analyzer found, before config and suppression comments are applied. */
export interface Finding {
  readonly ruleId: string;
  /** Absolute path of the file. */
  readonly file: string;
  /** Where to report; omitted when the problem has no position (e.g. a missing file). */
  readonly range?: SourceRange;
  readonly message: string;
  /**
   * Extra 1-based lines a `sessionstream-vet-disable-next-line` comment may
   * sit above (besides the reported line), e.g. the proto message declaration
   * for a finding reported at one of its options.
   */
  readonly suppressibleAt?: readonly number[];
}

/** A reported diagnostic: a finding with its effective severity. */
export interface VetDiagnostic {
  readonly ruleId: string;
  readonly severity: Severity;
  /** Absolute path of the file. */
  readonly file: string;
  readonly range?: SourceRange;
  readonly message: string;
  /** True for input failures (parse errors, unreadable config): exit code 2. */
  readonly fatal: boolean;
}

