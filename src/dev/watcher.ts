import { readdirSync, statSync, watch, type FSWatcher } from "node:fs";
import { dirname, join, relative, sep } from "node:path";

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

const SOURCE_FILE = /\.(ts|mts|cts|tsx|js|mjs|cjs|jsx|json)$/;
const IGNORED_DIRS = new Set(["node_modules", ".sessionstream", ".git"]);

interface DirWatch {
  readonly watcher: FSWatcher;
  /** The folder's inode when it was watched: a folder replaced by a rename gets a new watch. */
  readonly ino: number;
}

/**
 * Watches proto and source folders (with their subfolders) and delivers
 * debounced batches. Returns a closer.
 *
 * Every folder gets its own non-recursive watch. A folder watch reports
 * every name written, created or renamed into it, so a file saved through a
 * temp file and a rename (what `gen` and many editors do) is seen on every
 * save. `fs.watch(dir, { recursive: true })` on Linux with Node 20 watches
 * files by inode and goes blind for a file after the first such save.
 * Folders created later are watched when they appear.
 */
export function watchProject(options: WatchOptions): () => void {
  const dirs = new Map<string, DirWatch>();
  let protos = new Set<string>();
  let sources = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const flush = () => {
    timer = undefined;
    const batch = { protos: [...protos].sort(), sources: [...sources].sort() };
    protos = new Set();
    sources = new Set();
    options.onChange(batch);
  };

  const record = (abs: string, kind: "proto" | "source") => {
    const path = relative(options.cwd, abs);
    if (kind === "proto" && path.endsWith(".proto")) protos.add(path);
    else if (kind === "source" && SOURCE_FILE.test(path)) sources.add(path);
    else return;
    clearTimeout(timer);
    timer = setTimeout(flush, options.debounceMs ?? 150);
  };

  /** Watches `dir` and every folder under it that is not watched yet (or was replaced). */
  const watchTree = (dir: string, kind: "proto" | "source") => {
    if (closed) return;
    let ino: number;
    try {
      const st = statSync(dir);
      if (!st.isDirectory()) return;
      ino = st.ino;
    } catch {
      return; // gone already
    }
    // Proto and source roots may overlap (a proto root of "."): one watch per folder and kind.
    const key = `${kind}\0${dir}`;
    const known = dirs.get(key);
    if (known && known.ino !== ino) {
      known.watcher.close();
      dirs.delete(key);
    }
    if (!dirs.has(key)) {
      let watcher: FSWatcher;
      try {
        watcher = watch(dir, (_event, name) => onEvent(dir, kind, name));
      } catch {
        return; // unreadable or gone: not watched
      }
      watcher.on("error", () => {
        // The folder was deleted (or became unreadable): forget it; a new one is picked up by its parent.
        watcher.close();
        if (dirs.get(key)?.watcher === watcher) dirs.delete(key);
      });
      dirs.set(key, { watcher, ino });
    }
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !IGNORED_DIRS.has(entry.name)) watchTree(join(dir, entry.name), kind);
    }
  };

  const onEvent = (dir: string, kind: "proto" | "source", name: string | Buffer | null) => {
    if (closed) return;
    if (!name) {
      // The platform did not say which entry changed: look at the whole folder again.
      watchTree(dir, kind);
      return;
    }
    const entry = name.toString();
    if (entry.split(sep).some((part) => IGNORED_DIRS.has(part))) return;
    const abs = join(dir, entry);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      // Deleted or renamed away: still a change (a deleted source must reload).
    }
    if (isDir) {
      // A new (or moved-in) folder: watch it and count the files it brought.
      const before = new Set(dirs.keys());
      watchTree(abs, kind);
      for (const key of dirs.keys()) if (!before.has(key)) for (const f of filesIn(key.slice(key.indexOf("\0") + 1))) record(f, kind);
      return;
    }
    record(abs, kind);
  };

  /** A root that does not exist yet: watch its nearest existing ancestor until it appears. */
  const pending = new Map<string, FSWatcher>();
  const awaitRoot = (root: string, kind: "proto" | "source") => {
    if (closed || pending.has(`${kind}\0${root}`)) return;
    let ancestor = dirname(root);
    while (!isDir(ancestor) && dirname(ancestor) !== ancestor) ancestor = dirname(ancestor);
    let watcher: FSWatcher;
    try {
      // On any change there: watch the root if it exists now, else wait again on the nearest ancestor.
      watcher = watch(ancestor, () => {
        watcher.close();
        pending.delete(`${kind}\0${root}`);
        startRoot(root, kind, true);
      });
    } catch {
      return;
    }
    watcher.on("error", () => watcher.close());
    pending.set(`${kind}\0${root}`, watcher);
  };
  const startRoot = (root: string, kind: "proto" | "source", late: boolean) => {
    if (!isDir(root)) return awaitRoot(root, kind);
    const before = new Set(dirs.keys());
    watchTree(root, kind);
    if (late) for (const key of dirs.keys()) if (!before.has(key)) for (const f of filesIn(key.slice(key.indexOf("\0") + 1))) record(f, kind);
  };

  for (const root of options.protoRoots) startRoot(join(options.cwd, root), "proto", false);
  for (const root of options.sourceRoots) startRoot(join(options.cwd, root), "source", false);
  return () => {
    closed = true;
    clearTimeout(timer);
    for (const { watcher } of dirs.values()) watcher.close();
    for (const watcher of pending.values()) watcher.close();
    dirs.clear();
    pending.clear();
  };
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}
