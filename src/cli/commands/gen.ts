// `sessionstream gen`: generate typed code and stubs from annotated protos.
import { Command } from "commander";
// The codegen pipeline (protoplugin, TypeScript, ts-morph) loads only when the verb runs.
import type { GenResult } from "../../codegen/gen.js";

/** Where the command writes; tests pass their own. */
export interface GenIO {
  out(line: string): void;
  err(line: string): void;
  setExitCode(code: number): void;
  /** Resolves when a `--watch` should stop. Default: on SIGINT. */
  untilStopped?(): Promise<void>;
}

const processIO: GenIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  setExitCode: (code) => {
    process.exitCode = code;
  },
  untilStopped: () => new Promise((resolve) => process.once("SIGINT", () => resolve())),
};

const HELP = `
Reads sessionstream.config.json (every key optional):
  { "protoRoots": ["proto"], "outDir": "src/gen", "stubsDir": "src", "importExtension": "js" }

Regenerated (never edit): <outDir>/**/*_pb.ts and *_sessionstream.ts, and
  <outDir>/app_sessionstream.ts (AppSchema, createAppRegistry: every proto file).
Yours (written once; new commands and events are merged in, nothing removed):
  <stubsDir>/handlers/<command>.ts, <stubsDir>/projections/<file>-ui.ts,
  <stubsDir>/projections/<file>-timeline.ts, <stubsDir>/app.ts

Generated files in <outDir> that no proto produces any more (a deleted proto) are
removed, and so are temp files left by an interrupted gen; --check reports both.
A stub is merged only when the result parses; otherwise gen leaves it unchanged,
prints what to add by hand and exits 1.

Exit codes: 0 done; 1 --check found stale files, or a stub could not be merged;
2 bad protos, annotations or config, or two commands mapping to one handler file
or identifier (nothing written).

Examples:
  $ sessionstream gen
  $ sessionstream gen --check        # in CI
  $ sessionstream gen --watch
  $ sessionstream gen --cwd examples/chat`;

/** Lines to print for a result: `[stdout, stderr]`. */
export function formatGenResult(result: GenResult, check: boolean): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [...result.errors];
  if (result.exitCode === 2) {
    err.push("nothing was written");
    return { out, err };
  }
  for (const f of result.files) {
    const verb = check && f.status !== "unchanged" ? (f.status === "created" ? "missing" : "stale") : f.status;
    const extra = f.added?.length ? ` (added ${f.added.join(", ")})` : f.reason ? ` (${f.reason})` : "";
    out.push(`${verb.padEnd(9)} ${f.path}${extra}`);
  }
  for (const note of result.notes) err.push(`warning: ${note}`);
  const count = (s: string) => result.files.filter((f) => f.status === s).length;
  if (check) {
    out.push(result.exitCode === 1 ? "generated files are stale: run `sessionstream gen`" : "generated files are up to date");
  } else {
    const removed = count("removed") ? `, ${count("removed")} removed` : "";
    out.push(`${count("created")} created, ${count("updated")} updated${removed}, ${count("unchanged")} unchanged`);
  }
  if (result.exitCode === 1 && result.errors.length) {
    err.push(
      check
        ? "gen cannot merge the stubs above: add the lines by hand (or fix the file), then run gen"
        : "gen did not finish: the stubs above were left unchanged; add the lines by hand (or fix the file) and run gen again",
    );
  }
  return { out, err };
}

/** The `gen` verb. */
export function genCommand(io: GenIO = processIO): Command {
  return new Command("gen")
    .description("Generate typed registrations, handler stubs and projection skeletons from annotated .proto files")
    .option("--cwd <dir>", "project folder holding sessionstream.config.json", ".")
    .option("-c, --config <file>", "config file, relative to --cwd", undefined)
    .option("--check", "write nothing; exit 1 when generated files are stale or missing (for CI)", false)
    .option("--watch", "regenerate whenever a .proto file changes", false)
    .addHelpText("after", HELP)
    .action(async (opts: { cwd: string; config?: string; check: boolean; watch: boolean }) => {
      const base = { projectDir: opts.cwd, ...(opts.config !== undefined ? { configFile: opts.config } : {}) };
      const print = (result: GenResult) => {
        const lines = formatGenResult(result, opts.check);
        for (const l of lines.out) io.out(l);
        for (const l of lines.err) io.err(l);
      };
      if (opts.watch) {
        if (opts.check) {
          io.err("--check and --watch cannot be combined");
          io.setExitCode(2);
          return;
        }
        const { watchGen } = await import("../../codegen/watch.js");
        const w = watchGen(base, print);
        await (io.untilStopped?.() ?? new Promise(() => {}));
        w.close();
        await w.idle();
        return;
      }
      const { runGen } = await import("../../codegen/gen.js");
      const result = await runGen({ ...base, check: opts.check });
      print(result);
      io.setExitCode(result.exitCode);
    });
}
