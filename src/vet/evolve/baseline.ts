// Resolves `schema-vet --against <git ref | folder | buf image>` into the
// compiled baseline protos that the current protos are compared with.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { bundledBufPath, compileProtos, ProtoCompileError } from "../../codegen/compile-protos.js";

/** The compiled baseline. */
export interface Baseline {
  /** How the baseline is named in messages: `git ref origin/main`, `folder ../old`, `buf image old.binpb`. */
  readonly label: string;
  /** Every file of the baseline, imports included, with source code info when the input had it. */
  readonly fileDescriptorSet: FileDescriptorSet;
  /** Proto paths (`chat/v1/chat.proto`) of the baseline's own files (not imports). */
  readonly files: ReadonlySet<string>;
}

/** A baseline that cannot be read; the message names the problem and the fix. */
export class BaselineError extends Error {
  override readonly name = "BaselineError";
}

/** Options of {@link loadBaseline}. */
export interface LoadBaselineOptions {
  /** The `--against` value. */
  readonly against: string;
  /** Working directory: folders and image paths are relative to it, git runs in it. */
  readonly cwd: string;
  /** The current proto roots (absolute); a git ref or folder baseline is read at the same relative places. */
  readonly roots: readonly string[];
  /** The `buf` executable. Default: the bundled one. */
  readonly bufPath?: string;
}

const IMAGE_EXTENSIONS = /\.(binpb|bin|pb|json|txtpb)$/;

/**
 * Reads the baseline: an existing file is a buf image (or
 * FileDescriptorSet) in any format `buf` reads; an existing folder holds the
 * old protos (at the same relative roots as today, e.g. `<folder>/proto`, or
 * directly); anything else is a git ref whose proto roots are checked out
 * into a temporary folder. Throws {@link BaselineError}.
 */
export async function loadBaseline(options: LoadBaselineOptions): Promise<Baseline> {
  const path = resolve(options.cwd, options.against);
  if (existsSync(path) && statSync(path).isFile()) return loadImage(path, options);
  if (existsSync(path) && statSync(path).isDirectory()) {
    const roots = folderRoots(path, options);
    return compileBaseline(roots, `folder ${options.against}`, options);
  }
  if (IMAGE_EXTENSIONS.test(options.against)) {
    throw new BaselineError(`--against ${options.against}: no such buf image (build one with \`buf build -o ${options.against}\`)`);
  }
  return loadGitRef(options);
}

async function loadImage(path: string, options: LoadBaselineOptions): Promise<Baseline> {
  const label = `buf image ${options.against}`;
  const dir = mkdtempSync(join(tmpdir(), "sessionstream-against-"));
  try {
    // buf reads every image format (binary, JSON, text) and writes one we can parse.
    const out = join(dir, "image.binpb");
    const res = await run(options.bufPath ?? bundledBufPath(), ["build", path, "-o", out, "--as-file-descriptor-set"], dir);
    if (res.code !== 0) {
      throw new BaselineError(`--against ${options.against}: not a buf image or FileDescriptorSet (${firstLine(res.stderr || res.stdout)}); build one with \`buf build -o image.binpb\``);
    }
    const fileDescriptorSet = fromBinary(FileDescriptorSetSchema, readFileSync(out));
    // An image marks imports (ImageFile.buf_extension.is_import); without it every non-library file counts as the baseline's own.
    const files = new Set(fileDescriptorSet.file.map((f) => f.name).filter((n) => !n.startsWith("google/protobuf/") && !n.startsWith("sessionstream/v1/")));
    return { label, fileDescriptorSet, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function folderRoots(folder: string, options: LoadBaselineOptions): string[] {
  const mapped = options.roots.map((r) => join(folder, relative(options.cwd, r))).filter((r) => existsSync(r) && hasProtos(r));
  if (mapped.length > 0) return mapped;
  if (hasProtos(folder)) return [folder];
  throw new BaselineError(
    `--against ${options.against}: no .proto files in the folder (looked in ${options.roots.map((r) => relative(options.cwd, r) || ".").join(", ")} under it and in the folder itself)`,
  );
}

async function loadGitRef(options: LoadBaselineOptions): Promise<Baseline> {
  const { against, cwd } = options;
  const top = await run("git", ["rev-parse", "--show-toplevel"], cwd);
  if (top.code !== 0) {
    throw new BaselineError(`--against ${against}: not a file or folder, and ${cwd} is not in a git repository (${firstLine(top.stderr)})`);
  }
  const commit = await run("git", ["rev-parse", "--verify", "--quiet", `${against}^{commit}`], cwd);
  if (commit.code !== 0) {
    throw new BaselineError(
      `--against ${against}: not a file, a folder or a git ref of this repository (in CI, fetch it first: \`git fetch origin main\`, or check out with fetch-depth: 0)`,
    );
  }
  const sha = commit.stdout.trim();
  const toplevel = top.stdout.trim();
  const dir = mkdtempSync(join(tmpdir(), "sessionstream-against-"));
  try {
    const roots: string[] = [];
    for (const [i, root] of options.roots.entries()) {
      const rel = relative(toplevel, root).split("\\").join("/");
      const list = await run("git", ["ls-tree", "-r", "-z", "--name-only", sha, "--", rel || "."], toplevel);
      if (list.code !== 0) throw new BaselineError(`--against ${against}: git ls-tree failed: ${firstLine(list.stderr)}`);
      const protos = list.stdout.split("\0").filter((p) => p.endsWith(".proto"));
      if (protos.length === 0) continue;
      const target = join(dir, String(i));
      for (const p of protos) {
        const show = await run("git", ["show", `${sha}:${p}`], toplevel);
        if (show.code !== 0) throw new BaselineError(`--against ${against}: cannot read ${p}: ${firstLine(show.stderr)}`);
        const out = join(target, rel ? relative(rel, p) : p);
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, show.stdout);
      }
      roots.push(target);
    }
    if (roots.length === 0) {
      // Nothing to compare with: the protos are all new. Every rule passes.
      return { label: `git ref ${against}`, fileDescriptorSet: { $typeName: "google.protobuf.FileDescriptorSet", file: [] } as FileDescriptorSet, files: new Set() };
    }
    return await compileBaseline(roots, `git ref ${against} (${sha.slice(0, 12)})`, options);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function compileBaseline(roots: string[], label: string, options: LoadBaselineOptions): Promise<Baseline> {
  try {
    const compiled = await compileProtos({ roots, ...(options.bufPath ? { bufPath: options.bufPath } : {}) });
    return { label, fileDescriptorSet: compiled.fileDescriptorSet, files: new Set(compiled.files.map((f) => f.proto.name)) };
  } catch (err) {
    const detail = err instanceof ProtoCompileError ? err.message.split("\n").slice(0, 3).join("; ") : String(err);
    throw new BaselineError(`--against ${options.against}: the baseline protos (${label}) do not compile: ${detail}; compare with a ref or folder whose protos compile`);
  }
}

function hasProtos(dir: string): boolean {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    if (entry.isFile() && entry.name.endsWith(".proto")) return true;
    if (entry.isDirectory() && hasProtos(join(dir, entry.name))) return true;
  }
  return false;
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

/** Runs a command; never rejects. */
export function run(cmd: string, args: readonly string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(cmd, [...args], { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      done({ code, stdout, stderr: err && !stderr ? err.message : stderr });
    });
  });
}
