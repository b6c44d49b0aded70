// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs
// inside the commit that crosses the threshold, on the thread that commits:
// here the event loop, where it stalls every session for the copy (about a
// third of the store's write cost under load). A worker thread with its own
// connection runs passive checkpoints instead; they never block the writer,
// and the writer restarts the WAL once a checkpoint has caught up.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** Options of {@link startCheckpointer}. */
export interface CheckpointerOptions {
  /** The database file (WAL mode). */
  readonly path: string;
  /** Milliseconds between passive checkpoints. */
  readonly intervalMs: number;
  /** Milliseconds to wait on a locked database. */
  readonly busyTimeoutMs: number;
}

/** A running background checkpointer. */
export interface Checkpointer {
  /** Stops it; resolves once its connection is closed. */
  stop(): Promise<void>;
}

// CommonJS, evaluated in the worker: better-sqlite3 is loaded from the path
// this package resolves (the app's folder may not resolve it).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
let timer;
let failing = false;
function checkpoint() {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    failing = false;
  } catch (err) {
    // Once per failure streak, not every interval.
    if (!failing) parentPort.postMessage({ error: String(err && err.message || err) });
    failing = true;
  }
  timer = setTimeout(checkpoint, workerData.intervalMs);
}
timer = setTimeout(checkpoint, workerData.intervalMs);
parentPort.on("message", (msg) => {
  if (msg !== "stop") return;
  clearTimeout(timer);
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
  db.close();
  parentPort.close();
});
`;

/**
 * Starts a worker thread that checkpoints `path` every `intervalMs`. Throws
 * when the thread cannot start (the caller keeps SQLite's automatic
 * checkpoints then). Failures inside it go to `onError`, once per failure
 * streak.
 */
export function startCheckpointer(options: CheckpointerOptions, onError: (message: string) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, ...options } });
  worker.unref();
  worker.on("message", (msg: { error?: string }) => {
    if (msg.error) onError(msg.error);
  });
  worker.on("error", (err) => onError(err.message));
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    async stop() {
      worker.postMessage("stop");
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
