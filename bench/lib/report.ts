// Machine info, the text table and the JSON file.
import { execFileSync } from "node:child_process";
import os from "node:os";
import { targetText } from "./row.js";
import type { Row } from "./types.js";

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly totalMemMiB: number;
  readonly platform: string;
  readonly release: string;
  readonly arch: string;
  readonly node: string;
  readonly v8: string;
  readonly date: string;
  readonly commit: string;
  readonly ulimitNoFile: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? "unknown",
    cpus: cpus.length,
    totalMemMiB: Math.round(os.totalmem() / 1024 / 1024),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    node: process.version,
    v8: process.versions.v8,
    date: new Date().toISOString(),
    commit: tryRun("git", ["rev-parse", "--short", "HEAD"]),
    ulimitNoFile: tryRun("sh", ["-c", "ulimit -n"]),
  };
}

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

/** A human-readable number with at most 3-4 significant digits. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e8 ? 0 : 2) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + "k";
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

const HEADERS = ["scenario", "size", "metric", "ours (median)", "±%", "baseline", "baseline (median)", "±%", "ratio", "unit", "target", "met"];

export function tableRows(rows: readonly Row[]): string[][] {
  return rows.map((r) => [
    r.scenario,
    r.size,
    r.metric,
    num(r.ours.median),
    r.ours.spreadPct.toFixed(1),
    r.baselineName,
    num(r.baseline.median),
    r.baseline.spreadPct.toFixed(1),
    Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : String(r.ratio),
    r.unit,
    targetText(r.target, r.unit),
    r.met === undefined ? "" : r.met ? "yes" : "NO",
  ]);
}

/** A plain text table (also valid Markdown when `markdown` is set). */
export function formatTable(rows: readonly Row[], markdown = false): string {
  const body = tableRows(rows);
  if (markdown) {
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [line(HEADERS), line(HEADERS.map(() => "---")), ...body.map(line)].join("\n");
  }
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(HEADERS), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
