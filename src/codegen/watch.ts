// `gen --watch`: regenerate when a .proto file under a proto root changes.
import { relative } from "node:path";
import { watchProject } from "../dev/watcher.js";
import { loadConfig } from "./config.js";
import { runGen, type GenOptions, type GenResult } from "./gen.js";

/** A running watch; `close()` stops it. */
export interface GenWatch {
  close(): void;
  /** Resolves when the run in progress (if any) is done. */
  idle(): Promise<void>;
}

/** Options of {@link watchGen}. */
export interface WatchGenOptions extends Omit<GenOptions, "check"> {
  /** Quiet period after the last change before regenerating, in ms. Default 100. */
  readonly debounceMs?: number;
}

/**
 * Runs `gen` now and again after every change of a `.proto` file under the
 * configured proto roots (debounced; runs never overlap). Each result goes to
 * `onResult`.
 */
export function watchGen(options: WatchGenOptions, onResult: (result: GenResult) => void): GenWatch {
  const config = loadConfig(options.projectDir ?? process.cwd(), options.configFile);
  const genOptions: GenOptions = {
    ...(options.projectDir !== undefined ? { projectDir: options.projectDir } : {}),
    ...(options.configFile !== undefined ? { configFile: options.configFile } : {}),
  };
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const schedule = () => {
    running = running.then(async () => {
      if (closed) return;
      onResult(await runGen(genOptions));
    });
  };
  // One watch per folder (the dev watcher): a recursive fs.watch on Linux goes blind for a
  // file after it is saved through a temp file and a rename, as many editors do.
  const stopWatching = watchProject({
    cwd: config.projectDir,
    protoRoots: config.protoRoots.map((root) => relative(config.projectDir, root) || "."),
    sourceRoots: [],
    debounceMs: options.debounceMs ?? 100,
    onChange: (batch) => {
      if (batch.protos.length > 0) schedule();
    },
  });
  schedule();
  return {
    close() {
      closed = true;
      stopWatching();
    },
    idle: () => running,
  };
}
