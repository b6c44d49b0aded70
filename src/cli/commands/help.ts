import { readdirSync, readFileSync } from "node:fs";
import { Command } from "commander";
import { failWith } from "../report.js";

/** The markdown topics shipped in the package's `docs/` (the same files the README links). */
export const DOCS_DIR = new URL("../../../docs/", import.meta.url);

/** Topics in reading order; any other `docs/*.md` follows alphabetically. */
const ORDER = ["concepts", "protocol", "codegen", "schema-vet", "testing", "troubleshooting", "runs", "several-nodes", "evolving-schemas"];

/** A help topic: its name (the file name without `.md`), title (its first heading) and text. */
export interface HelpTopic {
  readonly name: string;
  readonly title: string;
  readonly text: string;
}

/** Every topic under `dir` (default: the package's `docs/`). */
export function helpTopics(dir: URL = DOCS_DIR): HelpTopic[] {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".md"))
    .map((f) => f.slice(0, -3));
  names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => {
    const text = readFileSync(new URL(`${name}.md`, dir), "utf8");
    const title = /^# (.+)$/m.exec(text)?.[1]?.trim() ?? name;
    return { name, title, text };
  });
}

function rank(name: string): number {
  const i = ORDER.indexOf(name);
  return i === -1 ? ORDER.length : i;
}

/** The text `sessionstream help [topic]` prints; throws naming the topics when `topic` is unknown. */
export function helpText(topic: string | undefined, program?: Command, dir?: URL): string {
  const topics = helpTopics(dir);
  if (topic === undefined) {
    const width = Math.max(...topics.map((t) => t.name.length));
    return [
      "Usage: sessionstream help <topic>      (or sessionstream <command> --help)",
      "",
      "Topics:",
      ...topics.map((t) => `  ${t.name.padEnd(width)}  ${t.title}`),
      "",
      `Commands: ${(program?.commands ?? []).map((c) => c.name()).join(", ")}`,
      "The same pages are in docs/ of the package (linked from the README).",
      "",
    ].join("\n");
  }
  const found = topics.find((t) => t.name === topic);
  if (found) return found.text.endsWith("\n") ? found.text : found.text + "\n";
  const verb = program?.commands.find((c) => c.name() === topic);
  if (verb) return verb.helpInformation();
  throw new Error(`no help topic "${topic}"; topics: ${topics.map((t) => t.name).join(", ")}`);
}

export function helpCommand(): Command {
  return new Command("help")
    .description("Read the docs in the terminal: `help` lists topics, `help <topic>` prints one (also `help <command>`).")
    .argument("[topic]", "a topic (concepts, protocol, codegen, schema-vet, testing, troubleshooting, ...) or a command")
    .addHelpText(
      "after",
      `
Examples:
  $ npx sessionstream help
  $ npx sessionstream help troubleshooting
  $ npx sessionstream help protocol | less`,
    )
    .action(function helpAction(this: Command, topic: string | undefined) {
      let text: string;
      try {
        text = helpText(topic, this.parent ?? undefined);
      } catch (err) {
        return failWith(err, 2);
      }
      process.stdout.write(text);
    });
}
