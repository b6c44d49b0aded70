// Scenario 7: `sessionstream schema-vet` on synthetic TypeScript projects
// (N files, registrations spread across them), against `tsc --noEmit` on the
// same project.
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { interleave } from "../lib/measure.js";
import { checkDist, REPO, runTimed } from "../lib/project.js";
import { makeRow } from "../lib/row.js";
import { tempDir } from "../lib/tmp.js";
import type { Row, Scenario } from "../lib/types.js";

export const scenario: Scenario = {
  name: "schema-vet",
  title: "schema-vet vs tsc --noEmit",
  description:
    "ours: `node bin/sessionstream.js schema-vet --no-cache` (built CLI, default ./tsconfig.json) in a synthetic project of N files; every file has ordinary code " +
    "and imports the previous file, every other file registers schemas on a SchemaRegistry from `sessionstream` (node_modules link to the built package), every 50th passes google.protobuf.Struct (flagged). " +
    "warm: the same with the on-disk cache (node_modules/.cache/sessionstream/) filled by a previous run over the unchanged files. " +
    "baseline: `tsc --noEmit -p tsconfig.json` on the same project. Wall time of the whole process; both sides use V8's compile cache (tsc enables it itself).",
  async run(ctx) {
    const warning = checkDist("vet", "cli/main.js");
    if (warning) ctx.log(`  warning: ${warning}`);
    const sizes = ctx.quick ? [10, 30, 60] : [100, 300, 1000];
    const rows: Row[] = [];
    for (const files of sizes) {
      const dir = tempDir(`vet-${files}`);
      const flagged = writeProject(dir, files);
      const vet = (...flags: string[]) =>
        // Exit 1: the Struct registrations are found (as intended).
        runTimed(process.execPath, [join(REPO, "bin/sessionstream.js"), "schema-vet", "--format", "json", ...flags], dir, flagged > 0 ? [1] : [0]);
      // Fill the cache once (quick mode has no warm-up round).
      await vet();
      const stats = await interleave(
        ctx,
        `${files} files`,
        {
          ours: () => vet("--no-cache"),
          warm: () => vet(),
          tsc: () => runTimed(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", "tsconfig.json"], dir),
        },
        { reps: Math.min(ctx.reps, files >= 1000 ? 3 : 5), ...(ctx.quick ? { warmup: 0 } : {}) },
      );
      rows.push(
        makeRow({
          scenario: "schema-vet",
          size: `${files} files`,
          metric: "wall time",
          unit: "ms",
          higherIsBetter: false,
          ours: stats.ours,
          baselineName: "tsc --noEmit",
          baseline: stats.tsc,
          target: { of: "ratio", op: "<=", value: 0.5 },
          note: `${flagged} Struct registrations to find; cold (--no-cache)${warning ? "; " + warning : ""}`,
        }),
        makeRow({
          scenario: "schema-vet",
          size: `${files} files`,
          metric: "wall time, warm cache",
          unit: "ms",
          higherIsBetter: false,
          ours: stats.warm,
          baselineName: "tsc --noEmit",
          baseline: stats.tsc,
          note: "second run over unchanged files (results from node_modules/.cache/sessionstream/)",
        }),
      );
    }
    return rows;
  },
};

/** Writes the project; returns how many Struct registrations it contains. */
export function writeProject(dir: string, files: number): number {
  mkdirSync(join(dir, "src", "gen"), { recursive: true });
  mkdirSync(join(dir, "node_modules", "@bufbuild"), { recursive: true });
  symlinkSync(REPO, join(dir, "node_modules", "sessionstream"), "dir");
  symlinkSync(join(REPO, "node_modules/@bufbuild/protobuf"), join(dir, "node_modules", "@bufbuild", "protobuf"), "dir");
  cpSync(join(REPO, "fixtures/runtime/gen/chat/v1/chat_pb.ts"), join(dir, "src", "gen", "chat_pb.ts"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "vet-bench", private: true, type: "module" }) + "\n");
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true, noEmit: true, types: [] },
        include: ["src"],
      },
      null,
      2,
    ) + "\n",
  );
  let flagged = 0;
  const schemas = ["InferenceStartedEventSchema", "TokensDeltaEventSchema", "InferenceFinishedEventSchema", "ChatMessageUpdateSchema", "ChatMessageEntitySchema"];
  for (let i = 0; i < files; i++) {
    const registers = i % 2 === 0;
    const struct = i % 50 === 24;
    if (struct) flagged++;
    const lines = [`// Synthetic module ${i}.`];
    if (registers) {
      lines.push(`import { SchemaRegistry } from "sessionstream";`);
      lines.push(`import { ${schemas.join(", ")} } from "./gen/chat_pb.js";`);
      if (struct) lines.push(`import { StructSchema } from "@bufbuild/protobuf/wkt";`);
    }
    if (i > 0) lines.push(`import { total${i - 1}, type Item${i - 1} } from "./mod${i - 1}.js";`);
    lines.push(
      ``,
      `export interface Item${i} {`,
      `  readonly id: string;`,
      `  readonly count: number;`,
      `  readonly tags: readonly string[];`,
      `  readonly parent?: ${i > 0 ? `Item${i - 1}` : "undefined"};`,
      `}`,
      ``,
      `export function total${i}(items: readonly Item${i}[]): number {`,
      `  let sum = ${i > 0 ? `total${i - 1}([])` : "0"};`,
      `  for (const item of items) sum += item.count + item.tags.filter((t) => t.startsWith("x")).length;`,
      `  return sum;`,
      `}`,
      ``,
      `export class Store${i} {`,
      `  readonly #items = new Map<string, Item${i}>();`,
      `  put(item: Item${i}): this {`,
      `    this.#items.set(item.id, item);`,
      `    return this;`,
      `  }`,
      `  get(id: string): Item${i} | undefined {`,
      `    return this.#items.get(id);`,
      `  }`,
      `  sum(): number {`,
      `    return total${i}([...this.#items.values()]);`,
      `  }`,
      `}`,
    );
    if (registers) {
      const a = schemas[i % schemas.length]!;
      const b = schemas[(i + 1) % schemas.length]!;
      lines.push(
        ``,
        `export function register${i}(reg: SchemaRegistry) {`,
        `  const schema = ${a};`,
        `  return reg`,
        `    .registerEvent("Event${i}", schema)`,
        `    .registerUIEvent("Ui${i}", ${b})${struct ? `\n    .registerTimelineEntity("Bad${i}", StructSchema)` : ""};`,
        `}`,
      );
    }
    writeFileSync(join(dir, "src", `mod${i}.ts`), lines.join("\n") + "\n");
  }
  return flagged;
}
