// PostgreSQL for tests: the server of the machine (DESIGN: 127.0.0.1:5432,
// trust auth), or SESSIONSTREAM_TEST_PG. Each test run works in its own
// schema (`ss_test_<random>`) and drops it afterwards, so runs never collide.
import { randomBytes } from "node:crypto";
import pg from "pg";

/** The server tests use. */
export const PG_URL = process.env["SESSIONSTREAM_TEST_PG"] ?? "postgres://postgres@127.0.0.1:5432/test";

/** Why PostgreSQL tests cannot run here, or `undefined` when the server answers. Prints the reason. */
export async function postgresUnavailable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (err) {
    const reason = `PostgreSQL tests skipped: no server at ${PG_URL} (${(err as Error).message}); start it with \`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\` or set SESSIONSTREAM_TEST_PG`;
    console.warn(reason);
    return reason;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A fresh schema name for one test run or test. */
export function freshSchema(): string {
  return `ss_test_${randomBytes(6).toString("hex")}`;
}

/** Runs SQL on a short-lived admin connection. */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Drops the schemas (and everything in them). */
export async function dropSchemas(schemas: Iterable<string>): Promise<void> {
  const list = [...schemas];
  if (list.length === 0) return;
  await adminQuery(list.map((s) => `DROP SCHEMA IF EXISTS "${s}" CASCADE;`).join("\n"));
}
