// The `sessionstream` command line. Each verb lives in src/cli/commands/<verb>.ts
// and exports a commander `Command`; actions return results and set
// process.exitCode, never call process.exit (so tests can run them in-process).
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { genCommand } from "./commands/gen.js";
import { helpCommand } from "./commands/help.js";
import { devCommand } from "./commands/dev.js";
import { initCommand } from "./commands/init.js";
import { schemaVetCommand } from "./commands/schema-vet.js";
import { startCommand } from "./commands/start.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** Builds the program with every verb; exported for in-process tests. */
export function createProgram(): Command {
  const program = new Command("sessionstream")
    .description("Session-scoped streaming apps from annotated .proto files: init, gen, schema-vet, dev, start.")
    .version(pkg.version, "-v, --version")
    .showHelpAfterError("(run with --help for usage)")
    // `help` is a verb of its own: topics from docs/, and `help <command>` as before.
    .helpCommand(false);
  for (const verb of verbs()) program.addCommand(verb.version(pkg.version, "-v, --version"));
  return program;
}

function verbs(): Command[] {
  return [
    initCommand(),
    devCommand(),
    startCommand(),
    // Each verb module appends itself here.
    schemaVetCommand(),
    genCommand(),
    helpCommand(),
  ];
}

/** Runs the CLI with `argv` (process.argv by default). */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  await createProgram().parseAsync([...argv]);
}
