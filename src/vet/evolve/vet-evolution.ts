// `schema-vet --against <ref>`: compiles the baseline, runs `buf breaking`
// and the role-keyed evolution rules against the current protos.
import { createFileRegistry, type DescFile } from "@bufbuild/protobuf";
import type { CompiledProtos } from "../../codegen/compile-protos.js";
import type { Finding } from "../diagnostic.js";
import { annotatedMessages, type AnnotatedMessage } from "../proto/annotations.js";
import { BaselineError, loadBaseline } from "./baseline.js";
import { bufBreaking } from "./buf-breaking.js";
import { checkEvolution } from "./evolve-rules.js";

/** Options of {@link vetEvolution}. */
export interface EvolutionVetOptions {
  /** The `--against` value: a git ref, a folder or a buf image. */
  readonly against: string;
  readonly cwd: string;
  /** Current proto roots (absolute). */
  readonly roots: readonly string[];
  /** The current protos, compiled. */
  readonly compiled: CompiledProtos;
  /** Disk path of a current file, by proto path. */
  diskPath(protoPath: string): string;
  /** Progress lines for long work (stderr in the CLI). */
  readonly onProgress?: (line: string) => void;
}

/** Findings of the evolution rules; an unreadable baseline is one fatal `against-error`. */
export async function vetEvolution(options: EvolutionVetOptions): Promise<Finding[]> {
  options.onProgress?.(`schema-vet: reading the baseline ${options.against}`);
  let baseline;
  try {
    baseline = await loadBaseline({ against: options.against, cwd: options.cwd, roots: options.roots });
  } catch (err) {
    if (!(err instanceof BaselineError)) throw err;
    return [{ ruleId: "against-error", file: options.cwd, message: err.message }];
  }
  if (baseline.files.size === 0) return [];
  options.onProgress?.(`schema-vet: comparing with ${baseline.label} (buf breaking)`);
  const registry = createFileRegistry(baseline.fileDescriptorSet);
  const baselineFiles = [...baseline.files].map((p) => registry.getFile(p)).filter((f): f is DescFile => f !== undefined);
  const baselineMessages: AnnotatedMessage[] = baselineFiles.flatMap((f) => annotatedMessages(f, f.proto.name));
  const current: AnnotatedMessage[] = options.compiled.files.flatMap((f) => annotatedMessages(f, options.diskPath(f.proto.name)));
  let breaking;
  try {
    breaking = await bufBreaking(options.compiled.fileDescriptorSet, baseline.fileDescriptorSet);
  } catch (err) {
    return [{ ruleId: "against-error", file: options.cwd, message: `${(err as Error).message}; check that the baseline ${baseline.label} is a complete set of protos` }];
  }
  const currentTypeNames = new Set<string>();
  for (const file of options.compiled.registry) if (file.kind === "message") currentTypeNames.add(file.typeName);
  return checkEvolution({
    currentFiles: options.compiled.files,
    diskPath: options.diskPath,
    current,
    baseline: baselineMessages,
    currentTypeNames,
    breaking,
    baselineLabel: baseline.label,
  });
}
