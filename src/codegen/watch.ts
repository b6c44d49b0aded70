// `gen --watch`: regenerate when a .proto file under a proto root changes.
import { watch, type FSWatcher } from "node:fs";
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
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = () => {
    running = running.then(async () => {
      if (closed) return;
      onResult(await runGen(genOptions));
    });
  };
  const onChange = (_event: string, file: string | Buffer | null) => {
    if (file !== null && !String(file).endsWith(".proto")) return;
    clearTimeout(timer);
    timer = setTimeout(schedule, options.debounceMs ?? 100);
  };
  const watchers: FSWatcher[] = config.protoRoots.map((root) => watch(root, { recursive: true }, onChange));
  schedule();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
    idle: () => running,
  };
}
