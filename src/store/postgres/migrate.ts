import type { PoolClient } from "pg";
import { SessionstreamError } from "../../runtime/errors.js";
import { MIGRATIONS, SCHEMA_VERSION } from "./schema.js";

/** `name` as a quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** What `migrate` did. */
export interface MigrationResult {
  /** The schema version found (0 for a new schema). */
  readonly from: number;
  /** The schema version now. */
  readonly to: number;
}

/**
 * Brings `schema` up to {@link SCHEMA_VERSION} in one transaction under a
 * transaction-scoped advisory lock keyed by the schema name, so that several
 * processes starting at once apply each migration exactly once (the others
 * wait, then find nothing to do). A crash mid-migration rolls back and
 * releases the lock. Refuses a schema written by a newer sessionstream.
 */
export async function migrate(client: PoolClient, schema: string): Promise<MigrationResult> {
  const q = quoteIdent(schema);
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('sessionstream.migrate:' || $1::text))", [schema]);
    const exists = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${q}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${q}.ss_migrations (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const row = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${q}.ss_migrations`);
    const from = row.rows[0]?.version ?? 0;
    if (from > SCHEMA_VERSION) {
      throw new SessionstreamError(
        "store_failed",
        `PostgreSQL schema "${schema}" is at version ${from}, newer than this sessionstream (${SCHEMA_VERSION}); upgrade sessionstream`,
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      await client.query(m.sql(q));
      await client.query(`INSERT INTO ${q}.ss_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
    }
    await client.query("COMMIT");
    return { from, to: Math.max(from, SCHEMA_VERSION) };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}
