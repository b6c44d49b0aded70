// Scenario 6: `sessionstream gen` on synthetic annotated protos (N files x 50
// messages), against `buf generate` with protoc-gen-es alone on the same files.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bundledBufPath } from "../../src/codegen/compile-protos.js";
import { esPluginParameter } from "../../src/codegen/gen.js";
import { interleave } from "../lib/measure.js";
import { checkDist, REPO, runTimed } from "../lib/project.js";
import { makeRow } from "../lib/row.js";
import { tempDir } from "../lib/tmp.js";
import type { Row, Scenario } from "../lib/types.js";

export const scenario: Scenario = {
  name: "codegen",
  title: "sessionstream gen vs buf generate + protoc-gen-es",
  description:
    "ours: `node bin/sessionstream.js gen` (the built CLI: buf compile, protoc-gen-es and protoc-gen-sessionstream in-process, stubs) on a clean output. " +
    "baseline: `buf generate` with protoc-gen-es alone (same options, `strategy: all`: one plugin process for all files) on the same protos. Wall time of the whole process, outputs removed before each run.",
  async run(ctx) {
    const warning = checkDist("codegen", "cli/main.js");
    if (warning) ctx.log(`  warning: ${warning}`);
    const sizes = ctx.quick ? [1, 2, 4] : [1, 10, 100];
    const rows: Row[] = [];
    for (const files of sizes) {
      const dir = tempDir(`codegen-${files}`);
      writeProject(dir, files);
      const stats = await interleave(
        ctx,
        `${files} files x 50 messages`,
        {
          ours: async () => {
            rmSync(join(dir, "src"), { recursive: true, force: true });
            return runTimed(process.execPath, [join(REPO, "bin/sessionstream.js"), "gen", "--cwd", dir], dir);
          },
          es: async () => {
            rmSync(join(dir, "buf-out"), { recursive: true, force: true });
            return runTimed(bundledBufPath(), ["generate", "proto"], dir);
          },
        },
        { reps: Math.min(ctx.reps, files >= 100 ? 3 : 5), ...(ctx.quick ? { warmup: 0 } : {}) },
      );
      rows.push(
        makeRow({
          scenario: "codegen",
          size: `${files} files x 50 msgs`,
          metric: "wall time",
          unit: "ms",
          higherIsBetter: false,
          ours: stats.ours,
          baselineName: "buf + protoc-gen-es",
          baseline: stats.es,
          target: { of: "ratio", op: "<=", value: 1.3 },
          ...(warning ? { note: warning } : {}),
        }),
      );
    }
    return rows;
  },
};

/** proto/synth/fN/v1/fN.proto with 10 commands, 20 events, 10 UI event messages, 10 entities each; plus buf workspace files. */
export function writeProject(dir: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const pkgDir = join(dir, "proto", "synth", `f${i}`, "v1");
    mkdirSync(pkgDir, { recursive: true });
    writeFileSync(join(pkgDir, `f${i}.proto`), protoFile(i));
  }
  symlinkSync(join(REPO, "proto"), join(dir, "sessionstream-proto"), "dir");
  writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: proto\n  - path: sessionstream-proto\n");
  const opts = esPluginParameter("js").split(",").map((o) => `      - ${o}\n`).join("");
  writeFileSync(
    join(dir, "buf.gen.yaml"),
    // `strategy: all` starts protoc-gen-es once for all files, as an informed user configures it
    // (buf's default `directory` strategy starts it once per directory: one per file here).
    `version: v2\ninputs:\n  - directory: proto\nplugins:\n  - local: ${join(REPO, "node_modules/.bin/protoc-gen-es")}\n    out: buf-out\n    strategy: all\n    opt:\n${opts}`,
  );
  // `gen` reads protoRoots ["proto"] and writes src/gen + stubs under src by default.
  writeFileSync(join(dir, "sessionstream.config.json"), JSON.stringify({ protoRoots: ["proto"], outDir: "src/gen", stubsDir: "src" }) + "\n");
}

function protoFile(i: number): string {
  const p = `F${i}`;
  const lines = [`// Synthetic file ${i}: 50 annotated messages.`, `syntax = "proto3";`, ``, `package synth.f${i}.v1;`, ``, `import "sessionstream/v1/options.proto";`, ``];
  for (let k = 0; k < 10; k++) {
    lines.push(`// Command ${k} of file ${i}.`, `message Cmd${k}Command {`, `  option (sessionstream.v1.command) = { name: "${p}Cmd${k}" };`, `  string item_id = 1;`, `  string text = 2;`, `  int32 count = 3;`, `}`, ``);
  }
  for (let k = 0; k < 20; k++) {
    lines.push(
      `message Evt${k}Event {`,
      `  option (sessionstream.v1.event) = { name: "${p}Evt${k}" ui_events: "${p}Ui${k % 10}" timeline_entities: "${p}Ent${k % 10}" };`,
      `  string item_id = 1;`,
      `  string text = 2;`,
      `  int64 at = 3;`,
      `}`,
      ``,
    );
  }
  for (let k = 0; k < 10; k++) {
    lines.push(`message Ui${k}Update {`, `  option (sessionstream.v1.ui_event) = { names: "${p}Ui${k}" };`, `  string item_id = 1;`, `  string text = 2;`, `}`, ``);
  }
  for (let k = 0; k < 10; k++) {
    lines.push(
      `message Ent${k}Entity {`,
      `  option (sessionstream.v1.timeline_entity) = { kind: "${p}Ent${k}" id_field: "item_id" };`,
      `  string item_id = 1;`,
      `  string text = 2;`,
      `  repeated string tags = 3;`,
      `}`,
      ``,
    );
  }
  return lines.join("\n");
}
