/**
 * JSON Schema (draft 2020-12) of the `--format json` report. Part of the
 * public contract: fields are only added, never renamed or removed, within
 * one `version`.
 */
export const JSON_REPORT_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://sessionstream.dev/schemas/schema-vet-report.v1.json",
  title: "sessionstream schema-vet report",
  type: "object",
  required: ["version", "tool", "diagnostics", "summary"],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    tool: {
      type: "object",
      required: ["name", "version"],
      additionalProperties: false,
      properties: { name: { const: "sessionstream schema-vet" }, version: { type: "string" } },
    },
    diagnostics: {
      type: "array",
      items: {
        type: "object",
        required: ["file", "severity", "ruleId", "message", "fix", "fatal"],
        additionalProperties: false,
        properties: {
          file: { type: "string", minLength: 1 },
          line: { type: "integer", minimum: 1 },
          column: { type: "integer", minimum: 1 },
          endLine: { type: "integer", minimum: 1 },
          endColumn: { type: "integer", minimum: 1 },
          severity: { enum: ["error", "warning"] },
          ruleId: { type: "string", pattern: "^[a-z][a-z0-9-]*$" },
          message: { type: "string", minLength: 1 },
          fix: { type: "string" },
          fatal: { type: "boolean" },
        },
        dependentRequired: { line: ["column", "endLine", "endColumn"] },
      },
    },
    summary: {
      type: "object",
      required: ["errors", "warnings", "suppressed", "files", "maxWarnings", "exitCode"],
      additionalProperties: false,
      properties: {
        errors: { type: "integer", minimum: 0 },
        warnings: { type: "integer", minimum: 0 },
        suppressed: { type: "integer", minimum: 0 },
        files: {
          type: "object",
          required: ["typescript", "typescriptResolved", "proto"],
          additionalProperties: false,
          properties: {
            typescript: { type: "integer", minimum: 0 },
            typescriptResolved: { type: "integer", minimum: 0 },
            proto: { type: "integer", minimum: 0 },
          },
        },
        maxWarnings: { type: ["integer", "null"], minimum: 0 },
        exitCode: { enum: [0, 1, 2] },
      },
    },
    store: {
      type: "object",
      required: ["location", "sessions", "groups", "all"],
      additionalProperties: false,
      properties: {
        location: { type: "string", minLength: 1 },
        sessions: { type: "integer", minimum: 0 },
        all: { type: "boolean" },
        groups: {
          type: "array",
          items: {
            type: "object",
            required: ["family", "name", "typeName", "rows", "checked", "failed", "status"],
            additionalProperties: false,
            properties: {
              family: { enum: ["event", "entity"] },
              name: { type: "string" },
              typeName: { type: "string" },
              rows: { type: "integer", minimum: 0 },
              checked: { type: "integer", minimum: 0 },
              failed: { type: "integer", minimum: 0 },
              status: { enum: ["ok", "retired", "unknown-name", "unresolved-type", "undecodable"] },
            },
          },
        },
        rebuild: {
          type: "object",
          required: ["sessions", "changedSessions", "changedEntities"],
          additionalProperties: false,
          properties: {
            sessions: { type: "integer", minimum: 0 },
            changedSessions: { type: "integer", minimum: 0 },
            changedEntities: { type: "integer", minimum: 0 },
          },
        },
      },
    },
  },
} as const;
