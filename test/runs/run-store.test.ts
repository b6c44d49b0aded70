// The RunStore contract on every shipped store (memory, SQLite, PostgreSQL —
// skipped with a printed reason when no server answers), the SQLite upgrade
// from schema version 1, and for durable stores a process killed with
// SIGKILL mid-run: the next process stops one of its runs and recovers the
// other as interrupted, in the snapshot and in live UI events.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { MemoryHydrationStore, type HydrationStore, type RunRecord, type RunStore, type UIEvent } from "../../src/index.js";
import { PostgresHydrationStore } from "../../src/store/postgres/index.js";
import { SqliteHydrationStore } from "../../src/store/sqlite/index.js";
import { SCHEMA_SQL, SCHEMA_VERSION } from "../../src/store/sqlite/schema.js";
import { dropSchemas, freshSchema, PG_URL, postgresUnavailable } from "../helpers/postgres.js";
import { runsHub, runsRegistry, statuses } from "../helpers/runs-app.js";

type Spec = { kind: "sqlite"; path: string } | { kind: "postgres"; connectionString: string; schema: string };
interface Kind {
  readonly name: string;
  readonly skip?: string | undefined;
  fresh(): Spec | undefined;
  open(spec: Spec | undefined): HydrationStore & RunStore;
}

const dir = mkdtempSync(join(tmpdir(), "ss-runs-"));
const schemas = new Set<string>();
const pgSkip = await postgresUnavailable();
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!pgSkip) await dropSchemas(schemas);
});
let n = 0;
const open = (spec: Spec | undefined): HydrationStore & RunStore => {
  if (!spec) return new MemoryHydrationStore();
  if (spec.kind === "sqlite") return new SqliteHydrationStore({ path: spec.path, registry: runsRegistry() });
  return new PostgresHydrationStore({ connectionString: spec.connectionString, schema: spec.schema, registry: runsRegistry(), poolSize: 2 });
};
const kinds: Kind[] = [
  { name: "memory", fresh: () => undefined, open },
  { name: "sqlite", fresh: () => ({ kind: "sqlite", path: join(dir, `db${++n}`, "app.sqlite") }), open },
  {
    name: "postgres",
    skip: pgSkip,
    fresh: () => {
      const schema = freshSchema();
      schemas.add(schema);
      return { kind: "postgres", connectionString: PG_URL, schema };
    },
    open,
  },
];

function run(runId: string, sessionId: string, owner: string, extra: Partial<RunRecord> = {}): RunRecord {
  return { runId, sessionId, kind: "answer", owner, state: "running", data: { messageId: runId, n: 1 }, startedAt: 100, heartbeatAt: 100, stopRequested: false, ...extra };
}

for (const kind of kinds) {
  describe.skipIf(kind.skip !== undefined)(`${kind.name} run store`, () => {
    test("create, get, list by session in start order, running, end once, heartbeat and stop requests", async () => {
      const store = kind.open(kind.fresh());
      await store.createRun(run("r2", "s", "A"));
      await store.createRun(run("r1", "s", "B"));
      await store.createRun(run("r3", "t", "A"));
      expect(await store.getRun("r2")).toEqual(run("r2", "s", "A"));
      expect(await store.getRun("nope")).toBeUndefined();
      expect((await store.listRuns("s")).map((r) => r.runId)).toEqual(["r2", "r1"]);
      expect((await store.listRunningRuns()).map((r) => r.runId)).toEqual(["r2", "r1", "r3"]);

      expect(await store.endRun("r2", "failed", 200, "boom")).toBe(true);
      expect(await store.endRun("r2", "stopped", 300)).toBe(false);
      expect(await store.getRun("r2")).toEqual({ ...run("r2", "s", "A"), state: "failed", endedAt: 200, error: "boom" });
      expect((await store.listRunningRuns()).map((r) => r.runId)).toEqual(["r1", "r3"]);

      expect(await store.requestRunStop("r3")).toBe(true);
      expect(await store.requestRunStop("r2")).toBe(false);
      expect(await store.heartbeatRuns("A", 500)).toEqual(["r3"]);
      expect(await store.heartbeatRuns("B", 600)).toEqual([]);
      expect((await store.getRun("r3"))!).toMatchObject({ heartbeatAt: 500, stopRequested: true });
      expect((await store.getRun("r1"))!.heartbeatAt).toBe(600);
      expect((await store.getRun("r2"))!.heartbeatAt).toBe(100);
      await store.close?.();
    });

    test.skipIf(kind.name === "memory")("runs survive a reopen", async () => {
      const spec = kind.fresh();
      const first = kind.open(spec);
      await first.createRun(run("r", "s", "A"));
      await first.close?.();
      const second = kind.open(spec);
      expect(await second.getRun("r")).toEqual(run("r", "s", "A"));
      await second.close?.();
    });

    test.skipIf(kind.name === "memory")("a process killed mid-run: after a restart one run is stopped, the other recovered as interrupted; nothing stays streaming", async () => {
      const spec = kind.fresh()!;
      const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fixtures/run-node.ts"), JSON.stringify(spec)], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      const ids = await new Promise<string[]>((resolve, reject) => {
        child.stdout.on("data", (d) => {
          out += d;
          const m = /ready (\S+) (\S+)\n/.exec(out);
          if (m) resolve([m[1]!, m[2]!]);
        });
        child.once("exit", (code) => reject(new Error(`run node exited (${code}) before it was ready: ${err}`)));
      });
      const killed = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await killed;

      const live: UIEvent[] = [];
      const store = kind.open(spec);
      const hub = runsHub({ store, fanout: { publishUI: (_s, _o, events) => void live.push(...events) } });
      expect(await statuses(hub, "k")).toEqual({ a: "streaming", b: "streaming" });
      expect((await hub.runs("k")).map((r) => r.state)).toEqual(["running", "running"]);
      expect(await hub.stopRun(ids[0]!)).toEqual({ runId: ids[0], stopped: true, state: "stopped" });
      expect((await hub.recoverRuns()).map((r) => r.runId)).toEqual([ids[1]]);
      expect(await statuses(hub, "k")).toEqual({ a: "stopped", b: "interrupted" });
      expect(live.map((e) => (e.payload as unknown as { status: string }).status)).toEqual(["stopped", "interrupted"]);
      expect((await hub.runs("k")).map((r) => r.state)).toEqual(["stopped", "interrupted"]);
      expect(await hub.stopRun(ids[1]!)).toEqual({ runId: ids[1], stopped: false, state: "interrupted" });
      await hub.close();
      await store.close?.();
    });
  });
}

test("SQLite: a schema version 1 file is upgraded to the current version with the runs table, its data kept", async () => {
  const path = join(dir, "v1.sqlite");
  const v1 = new Database(path);
  v1.exec(SCHEMA_SQL.slice(0, SCHEMA_SQL.indexOf("CREATE TABLE IF NOT EXISTS ss_runs")));
  v1.exec("INSERT INTO ss_sessions (session_id, cursor) VALUES ('old', 7)");
  v1.pragma("user_version = 1");
  v1.close();
  const store = new SqliteHydrationStore({ path, registry: runsRegistry() });
  expect(Number(store.database.pragma("user_version", { simple: true }))).toBe(SCHEMA_VERSION);
  expect(await store.cursor("old")).toBe(7n);
  await store.createRun(run("r", "old", "A"));
  expect((await store.listRuns("old")).map((r) => r.runId)).toEqual(["r"]);
  await store.close();
});
