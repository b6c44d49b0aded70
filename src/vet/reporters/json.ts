import type { SchemaVetResult } from "../run-vet.js";
import { findRule } from "../rules.js";
import { displayPath } from "./paths.js";
import type { StoreReport } from "../store/check-store.js";

/** Version of the `--format json` document; bumped only on incompatible changes. */
export const JSON_REPORT_VERSION = 1;

/** One diagnostic of the JSON report. */
export interface JsonDiagnostic {
  /** Path relative to the working directory, `/`-separated (absolute when outside it). */
  file: string;
  /** 1-based; absent when the problem has no position (e.g. a missing file). */
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  severity: "error" | "warning";
  ruleId: string;
  message: string;
  /** How to fix it (the rule's fix line). */
  fix: string;
  /** True for input failures (parse errors, unreadable config) that make the exit code 2. */
  fatal: boolean;
}

/** The `--format json` document; its JSON Schema is `JSON_REPORT_SCHEMA`. */
export interface JsonReport {
  version: typeof JSON_REPORT_VERSION;
  tool: { name: "sessionstream schema-vet"; version: string };
  diagnostics: JsonDiagnostic[];
  summary: {
    errors: number;
    warnings: number;
    suppressed: number;
    files: { typescript: number; typescriptResolved: number; proto: number };
    maxWarnings: number | null;
    exitCode: 0 | 1 | 2;
  };
  /** With `--store`: rows per event name / entity kind and type name, and the rebuild dry run's counts. */
  store?: StoreReport;
}

/** Builds the stable JSON report. */
export function toJsonReport(result: SchemaVetResult, toolVersion: string): JsonReport {
  return {
    version: JSON_REPORT_VERSION,
    tool: { name: "sessionstream schema-vet", version: toolVersion },
    diagnostics: result.diagnostics.map((d) => ({
      file: displayPath(result.cwd, d.file),
      ...(d.range ? { line: d.range.line, column: d.range.column, endLine: d.range.endLine, endColumn: d.range.endColumn } : {}),
      severity: d.severity,
      ruleId: d.ruleId,
      message: d.message,
      fix: findRule(d.ruleId)?.fix ?? "",
      fatal: d.fatal,
    })),
    summary: {
      errors: result.errorCount,
      warnings: result.warningCount,
      suppressed: result.suppressedCount,
      // The same document with or without the cache: where results came from is not part of it.
      files: { typescript: result.files.typescript, typescriptResolved: result.files.typescriptResolved, proto: result.files.proto },
      maxWarnings: result.maxWarnings ?? null,
      exitCode: result.exitCode,
    },
    ...(result.store ? { store: result.store } : {}),
  };
}
