import { pathToFileURL } from "node:url";
import type { SchemaVetResult } from "../run-vet.js";
import { RULES } from "../rules.js";
import { displayPath } from "./paths.js";

const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT = "%SRCROOT%";

/**
 * A SARIF 2.1.0 log (one run) for code-scanning tools. Every rule is listed
 * in `tool.driver.rules` with its explanation and fix; result locations are
 * relative to `%SRCROOT%` (the working directory).
 */
export function toSarif(result: SchemaVetResult, toolVersion: string): Record<string, unknown> {
  const ruleIndex = new Map(RULES.map((r, i) => [r.id, i]));
  const cwdUri = pathToFileURL(result.cwd.endsWith("/") ? result.cwd : `${result.cwd}/`).href;
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "sessionstream-schema-vet",
            semanticVersion: toolVersion,
            version: toolVersion,
            informationUri: "https://www.npmjs.com/package/sessionstream",
            rules: RULES.map((r) => ({
              id: r.id,
              name: r.id.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase()),
              shortDescription: { text: r.description },
              help: { text: r.fix },
              defaultConfiguration: { level: r.defaultSeverity === "error" ? "error" : "warning" },
            })),
          },
        },
        originalUriBaseIds: { [SRCROOT]: { uri: cwdUri } },
        invocations: [{ executionSuccessful: result.exitCode !== 2, exitCode: result.exitCode }],
        results: result.diagnostics.map((d) => {
          const path = displayPath(result.cwd, d.file);
          const artifactLocation = /^[a-z][a-z0-9+.-]*:\/\//i.test(path)
            ? { uri: path }
            : path.startsWith("/")
              ? { uri: pathToFileURL(path).href }
              : { uri: encodeURI(path), uriBaseId: SRCROOT };
          const region = d.range
            ? { startLine: d.range.line, startColumn: d.range.column, endLine: d.range.endLine, endColumn: Math.max(d.range.endColumn, 1) }
            : undefined;
          return {
            ruleId: d.ruleId,
            ...(ruleIndex.has(d.ruleId) ? { ruleIndex: ruleIndex.get(d.ruleId) } : {}),
            level: d.severity === "error" ? "error" : "warning",
            message: { text: d.message },
            locations: [{ physicalLocation: { artifactLocation, ...(region ? { region } : {}) } }],
          };
        }),
      },
    ],
  };
}
