import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary, type FileRegistry, createFileRegistry, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { SessionstreamError } from "../runtime/errors.js";

/** The package's own `proto/` folder (holds `sessionstream/v1/options.proto`). */
export const SESSIONSTREAM_PROTO_DIR = fileURLToPath(new URL("../../proto", import.meta.url));

/** Options of {@link compileProtos}. */
export interface CompileProtosOptions {
  /** Folders whose `.proto` files are compiled; imports resolve relative to each. */
  readonly roots: readonly string[];
  /** Also put the package's `proto/` on the include path, for `import "sessionstream/v1/options.proto"`. Default true. */
  readonly includeSessionstreamProtos?: boolean;
  /** The `buf` executable. Default: the one from the `@bufbuild/buf` npm package. */
  readonly bufPath?: string;
}

/** One compiler diagnostic, with the path of the file on disk. */
export interface ProtoDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** The compiled protos. */
export interface CompiledProtos {
  /** Every file, imports included, in dependency order (as a CodeGeneratorRequest wants them). */
  readonly fileDescriptorSet: FileDescriptorSet;
  /** Resolved descriptors of every file. */
  readonly registry: FileRegistry;
  /** The files found under `roots` (not imports), by proto path (e.g. `chat/v1/chat.proto`). */
  readonly files: readonly DescFile[];
  /** The path on disk of a file under one of the roots. */
  diskPath(protoPath: string): string;
}

/** Thrown when the protos do not compile; `diagnostics` carry `file:line:col`. Code `invalid_argument`. */
export class ProtoCompileError extends SessionstreamError {
  readonly diagnostics: readonly ProtoDiagnostic[];
  constructor(diagnostics: readonly ProtoDiagnostic[], raw: string) {
    const text = diagnostics.length
      ? diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`).join("\n")
      : raw.trim() || "buf failed without a message";
    super("invalid_argument", text);
    this.diagnostics = diagnostics;
  }
}

/**
 * Compiles `.proto` files with the `buf` binary from the `@bufbuild/buf` npm
 * package (no system protoc). Each root becomes a module of a temporary buf
 * workspace, linked rather than copied so diagnostics point at the user's
 * files.
 */
export async function compileProtos(options: CompileProtosOptions): Promise<CompiledProtos> {
  const roots = options.roots.map((r) => resolve(r));
  for (const root of roots) {
    if (!existsSync(root)) throw new SessionstreamError("invalid_argument", `proto root ${root} does not exist`);
  }
  const workspace = mkdtempSync(join(tmpdir(), "sessionstream-buf-"));
  try {
    const modules: Array<{ name: string; dir: string }> = roots.map((dir, i) => ({ name: `root${i}`, dir }));
    const userModuleNames = new Set(modules.map((m) => m.name));
    if (options.includeSessionstreamProtos !== false && !roots.includes(SESSIONSTREAM_PROTO_DIR)) {
      modules.push({ name: "sessionstream", dir: SESSIONSTREAM_PROTO_DIR });
    }
    for (const m of modules) symlinkSync(m.dir, join(workspace, m.name), "dir");
    writeFileSync(
      join(workspace, "buf.yaml"),
      `version: v2\nmodules:\n${modules.map((m) => `  - path: ${m.name}\n`).join("")}`,
    );
    const out = join(workspace, "image.binpb");
    const bufPath = options.bufPath ?? bundledBufPath();
    const { code, stdout, stderr } = await run(bufPath, ["build", "-o", out, "--as-file-descriptor-set", "--error-format", "json"], workspace);
    if (code !== 0) throw new ProtoCompileError(parseDiagnostics(stdout + stderr, modules), stdout + stderr);

    const fileDescriptorSet = fromBinary(FileDescriptorSetSchema, readFileSync(out));
    const registry = createFileRegistry(fileDescriptorSet);
    const fileRoot = new Map<string, string>();
    for (const f of fileDescriptorSet.file) {
      const module = modules.find((m) => userModuleNames.has(m.name) && existsSync(join(m.dir, f.name)));
      if (module) fileRoot.set(f.name, module.dir);
    }
    const files = fileDescriptorSet.file
      .filter((f) => fileRoot.has(f.name))
      .map((f) => registry.getFile(f.name))
      .filter((f): f is DescFile => f !== undefined);
    return {
      fileDescriptorSet,
      registry,
      files,
      diskPath: (protoPath) => join(fileRoot.get(protoPath) ?? roots[0] ?? ".", protoPath),
    };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

/** The `buf` binary shipped by the `@bufbuild/buf` npm package. */
export function bundledBufPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@bufbuild/buf/package.json")), "bin", "buf");
}

function parseDiagnostics(output: string, modules: ReadonlyArray<{ name: string; dir: string }>): ProtoDiagnostic[] {
  const diagnostics: ProtoDiagnostic[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const d = JSON.parse(line) as { path?: string; start_line?: number; start_column?: number; message?: string };
      const [moduleName, ...rest] = (d.path ?? "").split("/");
      const module = modules.find((m) => m.name === moduleName);
      diagnostics.push({
        file: module ? join(module.dir, ...rest) : (d.path ?? "<unknown>"),
        line: d.start_line ?? 0,
        column: d.start_column ?? 0,
        message: d.message ?? "unknown error",
      });
    } catch {
      // Not a diagnostic line; the raw text is kept in the error message.
    }
  }
  return diagnostics;
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      done({ code, stdout, stderr: err && !stderr ? err.message : stderr });
    });
  });
}
