// Smoke test of the benchmark runner: runs the cheapest scenario in quick
// mode as `npm run bench` does and checks the table and the JSON are well
// formed. Never asserts timings (performance is measured by bench/, not here).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatTable } from "../../bench/lib/report.js";
import { makeRow } from "../../bench/lib/row.js";
import type { BenchResult } from "../../bench/lib/runner.js";
import { percentileSorted, summarize } from "../../bench/lib/stats.js";

const REPO = resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "ss-bench-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bench runner", () => {
  it("runs a quick filtered scenario, prints the table and writes the JSON result", () => {
    const out = join(dir, "result.json");
    const stdout = execFileSync(
      process.execPath,
      ["--import", "tsx", "bench/run.ts", "--quick", "--filter", "hub-memory", "--reps", "1", "--warmup", "0", "--out", out],
      { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 },
    );
    expect(stdout).toMatch(/scenario\s+size\s+metric\s+ours \(median\)/);
    expect(stdout).toContain("hub-memory");

    const result = JSON.parse(readFileSync(out, "utf8")) as BenchResult;
    expect(result.machine.cpus).toBeGreaterThan(0);
    expect(result.machine.node).toBe(process.version);
    expect(Number.isNaN(Date.parse(result.machine.date))).toBe(false);
    expect(result.options).toMatchObject({ quick: true, reps: 1, warmup: 0, filter: ["hub-memory"] });
    expect(result.scenarios.map((s) => s.name)).toEqual(["hub-memory"]);
    expect(result.scenarios[0]!.error).toBeUndefined();
    expect(result.rows.length).toBeGreaterThanOrEqual(3);
    for (const row of result.rows) {
      expect(row.scenario).toBe("hub-memory");
      expect(row.unit).toBe("events/s");
      expect(row.ours.samples).toHaveLength(1);
      expect(row.baseline.samples).toHaveLength(1);
      expect(row.ours.median).toBeGreaterThan(0);
      expect(row.baseline.median).toBeGreaterThan(0);
      expect(row.ratio).toBeCloseTo(row.ours.median / row.baseline.median, 10);
      expect(typeof row.met).toBe("boolean");
    }
  }, 90_000);
});

describe("bench statistics and table", () => {
  it("summarizes samples with median and half-range spread", () => {
    const s = summarize([10, 30, 20]);
    expect(s).toMatchObject({ median: 20, min: 10, max: 30, spreadPct: 50 });
    expect(percentileSorted([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentileSorted([1, 2, 3, 4, 5], 99)).toBeCloseTo(4.96, 10);
  });

  it("checks targets on the ratio or on the absolute value", () => {
    const stat = (v: number) => summarize([v]);
    const base = { scenario: "x", size: "1", unit: "ms", higherIsBetter: false, baselineName: "b" };
    expect(makeRow({ ...base, ours: stat(3), baseline: stat(2), target: { of: "ratio", op: "<=", value: 1.5 } }).met).toBe(true);
    expect(makeRow({ ...base, ours: stat(4), baseline: stat(2), target: { of: "ratio", op: "<=", value: 1.5 } }).met).toBe(false);
    expect(makeRow({ ...base, ours: stat(1.5), baseline: stat(9), target: { of: "ours", op: "<=", value: 2 } }).met).toBe(true);
    const table = formatTable([makeRow({ ...base, ours: stat(3), baseline: stat(2) })]);
    expect(table.split("\n")[2]).toMatch(/^x\s+1\s+3\.00\s+0\.0\s+b\s+2\.00\s+0\.0\s+1\.50\s+ms$/);
  });
});
