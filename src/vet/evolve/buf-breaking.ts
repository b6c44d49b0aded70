// Runs `buf breaking` (the binary of the @bufbuild/buf npm package) on two
// compiled descriptor sets, once with buf's WIRE rules and once with its
// WIRE_JSON rules, so every change is known to break the binary wire, the
// JSON wire, or both. No descriptor diff of our own where buf already has one.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { bundledBufPath } from "../../codegen/compile-protos.js";
import { run } from "./baseline.js";

/** One finding of `buf breaking`, located in the current protos. */
export interface BufBreakingFinding {
  /** buf's rule id, e.g. `FIELD_WIRE_COMPATIBLE_TYPE`. */
  readonly bufRule: string;
  /** Proto path of the current file, e.g. `chat/v1/chat.proto`. */
  readonly path: string;
  /** 1-based; 0 when buf gave no position. */
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly message: string;
  /** True when it breaks the binary wire (buf's WIRE category); false when only the JSON wire. */
  readonly binary: boolean;
}

/**
 * The WIRE and WIRE_JSON findings of `buf breaking current --against
 * baseline`. Throws with buf's output when buf itself fails.
 */
export async function bufBreaking(current: FileDescriptorSet, baseline: FileDescriptorSet, bufPath = bundledBufPath()): Promise<BufBreakingFinding[]> {
  const dir = mkdtempSync(join(tmpdir(), "sessionstream-breaking-"));
  try {
    writeFileSync(join(dir, "current.binpb"), toBinary(FileDescriptorSetSchema, current));
    writeFileSync(join(dir, "baseline.binpb"), toBinary(FileDescriptorSetSchema, baseline));
    const [wire, json] = await Promise.all(["WIRE", "WIRE_JSON"].map((category) => breaking(dir, category, bufPath)));
    // WIRE_JSON has every WIRE check, some under a stricter rule (FIELD_WIRE_JSON_COMPATIBLE_TYPE for
    // FIELD_WIRE_COMPATIBLE_TYPE): a WIRE_JSON finding at a place WIRE also reported adds nothing.
    const where = (f: Omit<BufBreakingFinding, "binary">) => `${f.path}\u0000${f.line}\u0000${f.column}`;
    const binary = new Set((wire ?? []).map(where));
    return [
      ...(wire ?? []).map((f) => ({ ...f, binary: true })),
      ...(json ?? []).filter((f) => !binary.has(where(f))).map((f) => ({ ...f, binary: false })),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function breaking(dir: string, category: string, bufPath: string): Promise<Array<Omit<BufBreakingFinding, "binary">>> {
  const config = JSON.stringify({ version: "v2", breaking: { use: [category] } });
  const res = await run(bufPath, ["breaking", "current.binpb", "--against", "baseline.binpb", "--config", config, "--error-format", "json"], dir);
  const findings: Array<Omit<BufBreakingFinding, "binary">> = [];
  for (const line of res.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const d = JSON.parse(line) as { path?: string; start_line?: number; start_column?: number; end_line?: number; end_column?: number; type?: string; message?: string };
    findings.push({
      bufRule: d.type ?? "UNKNOWN",
      path: d.path ?? "",
      line: d.start_line ?? 0,
      column: d.start_column ?? 0,
      endLine: d.end_line ?? d.start_line ?? 0,
      endColumn: d.end_column ?? d.start_column ?? 0,
      // buf appends links to the protobuf docs; the rule's fix line says what to do instead.
      message: (d.message ?? "").replace(/\s*See https?:\/\/\S+.*$/s, ""),
    });
  }
  // buf exits 100 when it found breaking changes; anything else non-zero is a failure of buf itself.
  if (res.code !== 0 && res.code !== 100 && findings.length === 0) {
    throw new Error(`buf breaking failed (exit ${res.code}): ${(res.stderr || res.stdout).trim()}`);
  }
  return findings;
}
