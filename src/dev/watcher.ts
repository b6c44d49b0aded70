import { watch, type FSWatcher } from "node:fs";
import { join, relative, sep } from "node:path";

/** What changed, by kind, after debouncing. */
export interface ChangeBatch {
  readonly protos: readonly string[];
  readonly sources: readonly string[];
}

/** Options of {@link watchProject}. */
export interface WatchOptions {
  readonly cwd: string;
  /** Folders (relative to cwd) whose `.proto` changes trigger `gen`. */
  readonly protoRoots: readonly string[];
  /** Folders (relative to cwd) whose source changes trigger a reload. */
  readonly sourceRoots: readonly string[];
  /** Quiet time before a batch is delivered. Default 150 ms. */
  readonly debounceMs?: number;
  readonly onChange: (batch: ChangeBatch) => void;
}

const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs|json)$/;
const IGNORED = [`node_modules${sep}`, `.sessionstream${sep}`, `.git${sep}`];

/** Watches proto and source folders (recursively) and delivers debounced batches. Returns a closer. */
export function watchProject(options: WatchOptions): () => void {
  const watchers: FSWatcher[] = [];
  let protos = new Set<string>();
  let sources = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const batch = { protos: [...protos], sources: [...sources] };
    protos = new Set();
    sources = new Set();
    options.onChange(batch);
  };
  const note = (root: string, kind: "proto" | "source") => (_event: string, file: string | Buffer | null) => {
    if (!file) return;
    const path = relative(options.cwd, join(options.cwd, root, file.toString()));
    if (IGNORED.some((i) => path.includes(i))) return;
    if (kind === "proto" && path.endsWith(".proto")) protos.add(path);
    else if (kind === "source" && SOURCE_FILE.test(path)) sources.add(path);
    else return;
    clearTimeout(timer);
    timer = setTimeout(flush, options.debounceMs ?? 150);
  };
  for (const root of options.protoRoots) tryWatch(join(options.cwd, root), note(root, "proto"), watchers);
  for (const root of options.sourceRoots) tryWatch(join(options.cwd, root), note(root, "source"), watchers);
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}

function tryWatch(dir: string, listener: (event: string, file: string | Buffer | null) => void, into: FSWatcher[]): void {
  try {
    into.push(watch(dir, { recursive: true }, listener));
  } catch {
    // A missing folder is simply not watched.
  }
}
