import { relative } from "node:path";
import { Command } from "commander";
import { initProject, listTemplates, type InitResult } from "../../scaffold/init-project.js";
import { failWith } from "../report.js";

/** The text printed after a successful `init`. */
export function initSummary(result: InitResult, cwd = process.cwd()): string {
  const where = relative(cwd, result.dir) || ".";
  const place = where === "." ? " in this folder" : where === result.name ? "" : ` in ${where}`;
  return [
    `Created ${result.name}${place} (${result.files.length} files, sessionstream ${result.sessionstreamDependency}).`,
    "",
    "Next steps:",
    ...(where === "." ? [] : [`  cd ${where}`]),
    "  npm install",
    "  npx sessionstream dev      # runs gen first, then serves the app and the inspector",
    "",
    "Then open the printed URL, send a prompt, and reload mid-stream: the conversation survives.",
    ...result.notes.map((note) => `\nwarning: ${note}`),
  ].join("\n");
}

/** The text printed by `init --list`. */
export function templateList(): string {
  const templates = listTemplates();
  const width = Math.max(...templates.map((t) => t.name.length));
  return ["Templates (sessionstream init <dir> --template <name>):", ...templates.map((t) => `  ${t.name.padEnd(width)}  ${t.summary}`.trimEnd())].join("\n");
}

export function initCommand(): Command {
  return new Command("init")
    .description("Scaffold a working app (a chat by default, or an agent): annotated proto, handlers, projections, a page and tests.")
    .argument("[dir]", "folder to create the app in", ".")
    .option("--template <name>", "what to scaffold (see --list)", "chat")
    .option("--list", "list the templates and exit", false)
    .option("--name <name>", "npm package name of the app (default: the folder name)")
    .option("--force", "write into a non-empty folder", false)
    .option("--sessionstream <spec>", "dependency on sessionstream: a version range, or a path to a local checkout (file:)")
    .addHelpText(
      "after",
      `
Examples:
  $ npx sessionstream init my-chat
  $ npx sessionstream init my-agent --template agent
  $ npx sessionstream init --list
  $ npx sessionstream init my-chat --sessionstream ../sessionstream   # against a local checkout`,
    )
    .action(function initAction(dir: string, opts: { name?: string; force: boolean; sessionstream?: string; template: string; list: boolean }) {
      if (opts.list) {
        console.log(templateList());
        return;
      }
      try {
        const result = initProject({
          dir,
          template: opts.template,
          force: opts.force,
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.sessionstream ? { sessionstream: opts.sessionstream } : {}),
        });
        console.log(initSummary(result));
      } catch (err) {
        failWith(err, 2);
      }
    });
}
