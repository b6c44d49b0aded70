// `npm run bench [-- --quick] [--filter name[,name]] [--reps n] [--warmup n] [--out file] [--markdown]`
// Runs the scenarios of bench/scenarios, prints the table, writes bench/results/latest.json.
import { parseArgs } from "node:util";
import { formatTable } from "./lib/report.js";
import { runBench, SCENARIOS } from "./lib/runner.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    filter: { type: "string", multiple: true },
    reps: { type: "string" },
    warmup: { type: "string" },
    out: { type: "string" },
    markdown: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(
    [
      "Usage: npm run bench -- [--quick] [--filter name] [--reps n] [--warmup n] [--out file] [--markdown]",
      "",
      `Scenarios (in order): ${SCENARIOS.join(", ")}`,
      "  --quick      small sizes, 3 repetitions (whole suite under 2 minutes)",
      "  --filter     run scenarios whose name contains this (repeatable, or comma-separated)",
      "  --out        JSON result file (default bench/results/latest.json); '-' skips writing",
      "  --markdown   print the table as Markdown",
      "",
    ].join("\n"),
  );
} else {
  const filter = (values.filter ?? []).flatMap((f) => f.split(",")).map((f) => f.trim()).filter(Boolean);
  const result = await runBench({
    quick: values.quick,
    filter,
    ...(values.reps ? { reps: positiveInt(values.reps, "--reps") } : {}),
    ...(values.warmup ? { warmup: positiveInt(values.warmup, "--warmup", 0) } : {}),
    out: values.out === "-" ? null : (values.out ?? "bench/results/latest.json"),
  });
  const m = result.machine;
  process.stdout.write(
    `\nsessionstream bench (${result.options.quick ? "quick" : "full"}, ${result.options.reps} reps + ${result.options.warmup} warm-up, ${result.seconds.toFixed(0)} s)\n` +
      `${m.cpuModel} x${m.cpus}, ${m.totalMemMiB} MiB, ${m.platform} ${m.release}, node ${m.node}, ${m.date}, commit ${m.commit}, runtime from ${result.packageSource}/\n` +
      (result.warning ? `warning: ${result.warning}\n` : "") +
      "\n" +
      formatTable(result.rows, values.markdown) +
      "\n",
  );
  const failed = result.scenarios.filter((s) => s.error);
  for (const s of failed) process.stdout.write(`\nscenario ${s.name} failed: ${s.error}\n`);
  if (failed.length > 0) process.exitCode = 1;
}

function positiveInt(text: string, flag: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer >= ${min}, got ${text}`);
  return n;
}
