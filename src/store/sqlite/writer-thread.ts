// The SQLite store's hot writes on a worker thread. better-sqlite3 runs
// every statement synchronously on the thread that calls it; on the event
// loop, one transaction of a few hundred events stalls every websocket and
// every other session for its whole length. The writer thread owns a
// connection of its own and commits encoded applies; the event loop only
// encodes, posts and resolves. Writes queued while a transaction runs are
// drained into the next one (group commit without a timer).
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { packApplies, unpackApplies, WRITE_SQL, writeApply, type EncodedApply } from "./write-apply.js";

/** Options of {@link startWriterThread}. */
export interface WriterThreadOptions {
  /** The database file (WAL mode, schema already migrated). */
  readonly path: string;
  readonly synchronous: "NORMAL" | "FULL";
  readonly busyTimeoutMs: number;
  /** Most applies per transaction. */
  readonly maxEventsPerTransaction: number;
  /** false when another thread checkpoints the WAL (`wal_autocheckpoint = 0` here). */
  readonly autoCheckpoint: boolean;
}

/** A running writer thread. */
export interface WriterThread {
  /**
   * Commits `applies` (in order, possibly sharing transactions with others);
   * resolves once they are committed, with the error of each apply that
   * failed on its own (`undefined` for the others).
   */
  write(applies: readonly EncodedApply[]): Promise<Array<Error | undefined>>;
  /** Runs a pragma on the thread's connection, after the writes posted before it. */
  pragma(source: string): Promise<unknown>;
  /** Commits what was posted, closes the connection and ends the thread. */
  close(): Promise<void>;
}

type Reply = { id: number; failures?: Array<[number, string, string | undefined]>; result?: unknown; error?: [string, string | undefined] };

// CommonJS, evaluated in the worker. better-sqlite3 is loaded from the path
// this package resolves (the app's folder may not resolve it).
const WORKER_SOURCE = `
const { parentPort, workerData, receiveMessageOnPort } = require("node:worker_threads");
const Database = require(workerData.driver);
const writeApply = ${writeApply.toString()};
const unpackApplies = ${unpackApplies.toString()};
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
db.pragma("journal_mode = WAL");
db.pragma("synchronous = " + workerData.synchronous);
db.pragma("foreign_keys = ON");
db.defaultSafeIntegers(true);
if (!workerData.autoCheckpoint) db.pragma("wal_autocheckpoint = 0");
const stmt = {};
for (const [name, sql] of Object.entries(workerData.sql)) stmt[name] = db.prepare(sql);
const commitOne = db.transaction((a) => writeApply(stmt, a));
const commitMany = db.transaction((list) => { for (const a of list) writeApply(stmt, a); });
const failureOf = (err) => [String((err && err.message) || err), err && err.code];

// Commits applies in transactions of at most max; returns [index, message, code] per failed apply.
function commit(applies) {
  const failures = [];
  for (let start = 0; start < applies.length; start += workerData.max) {
    const group = applies.slice(start, start + workerData.max);
    try {
      if (group.length === 1) commitOne.immediate(group[0]);
      else commitMany.immediate(group);
    } catch {
      // One bad write (an ordinal already taken) must not fail the others:
      // each is retried in a transaction of its own and fails or lands alone.
      group.forEach((a, i) => {
        try { commitOne.immediate(a); } catch (err) { failures.push([start + i, ...failureOf(err)]); }
      });
    }
  }
  return failures;
}

// Commits write messages in groups of about max applies, replying to each
// message as soon as its group is committed; pragma and close wait for the
// writes before them.
function handle(messages) {
  let group = [];
  let applies = [];
  const commitGroup = () => {
    if (group.length === 0) return;
    const failures = commit(applies);
    let offset = 0;
    for (const m of group) {
      const end = offset + m.count;
      const own = failures.filter(([i]) => i >= offset && i < end).map(([i, ...rest]) => [i - offset, ...rest]);
      parentPort.postMessage({ id: m.id, failures: own });
      offset = end;
    }
    group = [];
    applies = [];
  };
  for (const m of messages) {
    if (m.packed) {
      const own = unpackApplies(m.packed);
      if (applies.length > 0 && applies.length + own.length > workerData.max) commitGroup();
      group.push({ id: m.id, count: own.length });
      for (const a of own) applies.push(a);
      continue;
    }
    commitGroup();
    if (m.pragma !== undefined) {
      try { parentPort.postMessage({ id: m.id, result: db.pragma(m.pragma) }); }
      catch (err) { parentPort.postMessage({ id: m.id, error: failureOf(err) }); }
    } else if (m.close) {
      db.close();
      parentPort.postMessage({ id: m.id });
      parentPort.close();
      return;
    }
  }
  commitGroup();
}

parentPort.on("message", (first) => {
  const messages = [first];
  for (let next; (next = receiveMessageOnPort(parentPort)); ) messages.push(next.message);
  handle(messages);
});
`;

/**
 * Starts the writer thread on `path`. Errors the thread reports as a whole
 * (it could not open the file, it died) reject every write in flight and go
 * to `onCrash`; the store then writes on the event loop.
 */
export function startWriterThread(options: WriterThreadOptions, onCrash: (err: Error) => void): WriterThread {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver,
      path: options.path,
      synchronous: options.synchronous,
      busyTimeoutMs: options.busyTimeoutMs,
      max: Math.max(1, options.maxEventsPerTransaction),
      autoCheckpoint: options.autoCheckpoint,
      sql: WRITE_SQL,
    },
  });
  const waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (err: Error) => void }>();
  let nextId = 0;
  let crashed: Error | undefined;
  let closing = false;

  const crash = (err: Error) => {
    if (crashed) return;
    crashed = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
    onCrash(err);
  };
  worker.on("message", (reply: Reply) => {
    const w = waiting.get(reply.id);
    waiting.delete(reply.id);
    w?.resolve(reply);
    // Idle: let a process that has nothing else to do exit.
    if (waiting.size === 0) worker.unref();
  });
  worker.on("error", (err) => crash(new Error(`the SQLite writer thread failed: ${err.message}`, { cause: err })));
  worker.on("exit", (code) => {
    if (!closing) crash(new Error(`the SQLite writer thread exited (code ${code})`));
  });
  worker.unref();

  const send = (message: object, transfer: ArrayBuffer[] = []): Promise<Reply> => {
    if (crashed) return Promise.reject(crashed);
    const id = nextId++;
    return new Promise<Reply>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, ...message }, transfer);
    });
  };

  return {
    async write(applies) {
      const packed = packApplies(applies);
      const reply = await send({ packed }, [packed.bytes.buffer as ArrayBuffer]);
      const errors: Array<Error | undefined> = new Array(applies.length).fill(undefined);
      for (const [index, message, code] of reply.failures ?? []) errors[index] = sqliteError(message, code);
      return errors;
    },
    async pragma(source) {
      const reply = await send({ pragma: source });
      if (reply.error) throw sqliteError(...reply.error);
      return reply.result;
    },
    async close() {
      if (crashed) return;
      closing = true;
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      await send({ close: true });
      await exited;
    },
  };
}

/** The driver's error class again (same message and `code`, e.g. `SQLITE_FULL`), so callers see what a main-thread write would throw. */
function sqliteError(message: string, code: string | undefined): Error {
  return code ? new Database.SqliteError(message, code) : new Error(message);
}
