import { relative, sep } from "node:path";
import type { CompiledProtos } from "../../codegen/compile-protos.js";
import { SessionstreamError } from "../../runtime/errors.js";
import type { Finding } from "../diagnostic.js";
import { annotatedMessages, type AnnotatedMessage } from "./annotations.js";
import { compileResilient } from "./compile-resilient.js";
import { checkAnnotatedMessages } from "./proto-rules.js";

/** What to vet: proto roots, and optionally only some files or folders under them. */
export interface ProtoVetInput {
  /** Include roots (absolute); imports resolve relative to them. */
  readonly roots: readonly string[];
  /** Report only files equal to or under these paths. Default: everything under the roots. */
  readonly only?: readonly string[];
  /** File paths in messages are shown relative to this folder. Default: absolute. */
  readonly cwd?: string;
}

/** Findings of the proto pass. */
export interface ProtoVetResult {
  readonly findings: Finding[];
  /** Number of .proto files compiled (imports excluded). */
  readonly filesChecked: number;
  /** The compiled protos when every file compiled (for `--against` and `--store`). */
  readonly compiled?: CompiledProtos;
  /** Disk path of a compiled file, by proto path. */
  readonly diskPath?: (protoPath: string) => string;
}

/** Compiles the protos (a broken file is reported, the rest still checked) and runs the proto rules. */
export async function vetProtos(input: ProtoVetInput): Promise<ProtoVetResult> {
  if (input.roots.length === 0) return { findings: [], filesChecked: 0 };
  let result;
  try {
    result = await compileResilient(input.roots);
  } catch (err) {
    const message = err instanceof SessionstreamError ? err.message : String(err);
    return { findings: [{ ruleId: "config-error", file: input.roots[0] ?? ".", message }], filesChecked: 0 };
  }
  const { compiled, findings } = result;
  if (!compiled) return { findings, filesChecked: 0 };
  const messages: AnnotatedMessage[] = [];
  for (const file of compiled.files) messages.push(...annotatedMessages(file, result.diskPath(file.proto.name)));
  const only = input.only;
  const reportFile = only ? (file: string) => only.some((p) => isWithin(file, p)) : undefined;
  findings.push(
    ...checkAnnotatedMessages(messages, {
      ...(reportFile ? { reportFile } : {}),
      ...(input.cwd !== undefined ? { displayPath: (f: string) => relative(input.cwd ?? "", f) } : {}),
      skipCrossReferences: result.incomplete,
    }),
  );
  return {
    findings,
    filesChecked: compiled.files.length,
    ...(result.incomplete ? {} : { compiled, diskPath: (p: string) => result.diskPath(p) }),
  };
}

/** Whether `file` is `path` or inside it. */
export function isWithin(file: string, path: string): boolean {
  const rel = relative(path, file);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep) && !/^[a-zA-Z]:/.test(rel));
}
