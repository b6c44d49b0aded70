import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SessionstreamError } from "../runtime/errors.js";

/** The package's `templates/` folder (resolved from src/scaffold or dist/scaffold). */
export const TEMPLATES_DIR = fileURLToPath(new URL("../../templates", import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL("../../package.json", import.meta.url));

/** What each template shows (`init --list`); a template folder without an entry is listed without one. */
const TEMPLATE_SUMMARIES: Record<string, string> = {
  chat: "a chat that streams answers token by token (the default)",
  agent: "an agent run: plan, reasoning, tool calls with arguments and results, errors, a final answer",
};

/** A template `init --template <name>` can write. */
export interface TemplateInfo {
  readonly name: string;
  readonly summary: string;
}

/** The templates under `templates/`, the default (`chat`) first, then by name. */
export function listTemplates(): TemplateInfo[] {
  return readdirSync(TEMPLATES_DIR)
    .filter((e) => statSync(join(TEMPLATES_DIR, e)).isDirectory())
    .sort((a, b) => (a === "chat" ? -1 : b === "chat" ? 1 : a < b ? -1 : 1))
    .map((name) => ({ name, summary: TEMPLATE_SUMMARIES[name] ?? "" }));
}

/** Options of {@link initProject}. */
export interface InitOptions {
  /** Target folder; created when missing. */
  readonly dir: string;
  /** Package name of the new app. Default: the folder's name. */
  readonly name?: string;
  /** Write into a non-empty folder (existing files with the same names are overwritten). Default false. */
  readonly force?: boolean;
  /**
   * How the app depends on sessionstream: a version range (default: this
   * package's own version) or a path to a local checkout (becomes `file:<abs path>`).
   */
  readonly sessionstream?: string;
  /** Template to copy. Default `chat`. */
  readonly template?: string;
}

/** What `init` did. */
export interface InitResult {
  readonly dir: string;
  readonly name: string;
  /** Files written, relative to `dir`, sorted. */
  readonly files: readonly string[];
  readonly sessionstreamDependency: string;
  /** Things to fix before the app runs (e.g. a local checkout that is not built). */
  readonly notes: readonly string[];
}

/**
 * Writes a complete small app from `templates/<template>/`. Files named
 * `*.tmpl` get `{{name}}`, `{{sessionstream}}` and `{{sessionstreamVersion}}`
 * substituted; `_gitignore` becomes `.gitignore` (npm drops dotfiles from packages).
 */
export function initProject(options: InitOptions): InitResult {
  const dir = resolve(options.dir);
  const templateName = options.template ?? "chat";
  const known = listTemplates().map((t) => t.name);
  if (!known.includes(templateName)) {
    throw new SessionstreamError("invalid_argument", `no template "${templateName}"; templates: ${known.join(", ")} (sessionstream init --list)`);
  }
  const template = join(TEMPLATES_DIR, templateName);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new SessionstreamError("invalid_argument", `${dir} exists and is not a folder`);
    const entries = readdirSync(dir).filter((e) => e !== ".git");
    if (entries.length > 0 && !options.force) {
      throw new SessionstreamError(
        "invalid_argument",
        `${dir} is not empty (${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", ..." : ""}); choose an empty folder or pass --force`,
      );
    }
  }
  const name = options.name ?? npmName(basename(dir));
  if (!/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(name)) {
    throw new SessionstreamError("invalid_argument", `"${name}" is not a valid npm package name; pass --name <name>`);
  }
  const version = (JSON.parse(readFileSync(PACKAGE_JSON, "utf8")) as { version: string }).version;
  const dependency = sessionstreamDependency(options.sessionstream, version);

  mkdirSync(dir, { recursive: true });
  cpSync(template, dir, { recursive: true, force: true });
  const files: string[] = [];
  for (const file of walk(dir, template)) {
    let target = file;
    if (basename(file) === "_gitignore") target = join(dirname(file), ".gitignore");
    if (file.endsWith(".tmpl")) {
      target = target.slice(0, -".tmpl".length);
      const text = readFileSync(file, "utf8")
        .replaceAll("{{name}}", name)
        .replaceAll("{{sessionstream}}", dependency)
        .replaceAll("{{sessionstreamVersion}}", version);
      writeFileSync(file, text);
    }
    if (target !== file) renameSync(file, target);
    files.push(relative(dir, target));
  }
  const notes: string[] = [];
  if (dependency.startsWith("file:")) {
    const checkout = dependency.slice("file:".length);
    // npm 11 runs the `prepare` script (the build) of a linked directory dependency on every
    // install, whatever allowScripts says, and warns unless an entry covers it. The entry
    // says what happens: the checkout is rebuilt. npm matches a directory dependency by its
    // spec, not by its name: the key is `file:<path>`.
    const pkgFile = join(dir, "package.json");
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as { allowScripts?: Record<string, boolean> };
    pkg.allowScripts = { ...pkg.allowScripts, [dependency]: true };
    writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
    if (!existsSync(join(checkout, "node_modules", "typescript"))) {
      notes.push(`${checkout} has no node_modules: run \`npm ci\` there first (\`npm install\` here builds it)`);
    }
  }
  return { dir, name, files: files.sort(), sessionstreamDependency: dependency, notes };
}

function sessionstreamDependency(spec: string | undefined, version: string): string {
  if (!spec) return `^${version}`;
  const looksLikePath = spec.startsWith(".") || isAbsolute(spec) || spec.startsWith("file:");
  if (!looksLikePath) return spec;
  const path = resolve(spec.replace(/^file:/, ""));
  if (!existsSync(join(path, "package.json"))) {
    throw new SessionstreamError("invalid_argument", `--sessionstream ${spec}: no package.json at ${path}`);
  }
  return `file:${path}`;
}

/** Files of the copied template, as paths inside `dir`. */
function walk(dir: string, template: string, sub = ""): string[] {
  return readdirSync(join(template, sub)).flatMap((entry) => {
    const rel = join(sub, entry);
    return statSync(join(template, rel)).isDirectory() ? walk(dir, template, rel) : [join(dir, rel)];
  });
}

function npmName(folder: string): string {
  return folder.toLowerCase().replace(/[^a-z0-9-._~]+/g, "-").replace(/^[-._]+/, "") || "sessionstream-app";
}
