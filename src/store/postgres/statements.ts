// The SQL of the PostgreSQL store, given the quoted schema name. Each is run
// as a named prepared statement. Ordinals are int8; `pg` returns them as
// strings, which the store turns into bigints (never a JavaScript number).

const ENTITY_UNNEST = `unnest($3::text[], $4::text[], $5::int8[], $6::int8[], $7::bool[], $8::text[], $9::bytea[])
  AS e(kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload)`;

function entityUpsert(s: string, unnest: string, where = ""): string {
  return `INSERT INTO ${s}.ss_entities (session_id, kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload)
    SELECT $1, e.kind, e.id, e.created_ordinal, e.last_event_ordinal, e.tombstone, e.type_name, e.payload FROM ${unnest} ${where}
    ON CONFLICT (session_id, kind, id) DO UPDATE SET created_ordinal = excluded.created_ordinal,
      last_event_ordinal = excluded.last_event_ordinal, tombstone = excluded.tombstone,
      type_name = excluded.type_name, payload = excluded.payload`;
}

const RUN_COLUMNS = "run_id, session_id, kind, owner, state, data, started_at, heartbeat_at, ended_at, error, stop_requested";

const SNAPSHOT_COLUMNS = "s.cursor, s.epoch, e.kind, e.id, e.created_ordinal, e.last_event_ordinal, e.tombstone, e.type_name, e.payload";

export function buildStatements(s: string) {
  // Numbering of apply: $1 session, $2 ordinal, $3..$6 event, $7..$13 entity columns, $14 event id.
  const applyUnnest = ENTITY_UNNEST.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + 4}`);
  return {
    // One statement is one transaction. Data-modifying CTEs all run; when the
    // event row already exists (a redelivery: its ordinal or its event id is
    // taken) `ev` is empty and nothing else is written.
    apply: `WITH ev AS (
        INSERT INTO ${s}.ss_events (session_id, ordinal, name, type_name, payload, applied_at, event_id)
        VALUES ($1, $2, $3, $4, $5, $6, $14::text)
        ON CONFLICT DO NOTHING
        RETURNING ordinal
      ), ses AS (
        INSERT INTO ${s}.ss_sessions (session_id, cursor, timeline_cursor)
        SELECT $1, ordinal, ordinal FROM ev
        ON CONFLICT (session_id) DO UPDATE SET cursor = GREATEST(${s}.ss_sessions.cursor, excluded.cursor),
          timeline_cursor = excluded.timeline_cursor
      ), ent AS (
        ${entityUpsert(s, applyUnnest, "WHERE EXISTS (SELECT 1 FROM ev)")}
      )
      SELECT count(*)::int AS inserted FROM ev`,
    // Group commit: the events of many sessions in one statement. $1..$7
    // one row per event; $8..$16 one row per entity, $16 its event's index.
    // Only the entities of events this statement inserted are written (a
    // redelivered event changes nothing), the newest version per entity.
    // The inserted events come back; the store checks the others one by one.
    applyGroup: `WITH input AS (
        SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::bytea[], $6::int8[], $7::text[])
          WITH ORDINALITY AS i(session_id, ordinal, name, type_name, payload, applied_at, event_id, idx)
      ), ev AS (
        INSERT INTO ${s}.ss_events (session_id, ordinal, name, type_name, payload, applied_at, event_id)
        SELECT session_id, ordinal, name, type_name, payload, applied_at, event_id FROM input ORDER BY idx
        ON CONFLICT DO NOTHING
        RETURNING session_id, ordinal
      ), ses AS (
        INSERT INTO ${s}.ss_sessions (session_id, cursor, timeline_cursor)
        SELECT session_id, max(ordinal), max(ordinal) FROM ev GROUP BY session_id
        ON CONFLICT (session_id) DO UPDATE SET cursor = GREATEST(${s}.ss_sessions.cursor, excluded.cursor),
          timeline_cursor = excluded.timeline_cursor
      ), ent AS (
        INSERT INTO ${s}.ss_entities (session_id, kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload)
        SELECT DISTINCT ON (e.session_id, e.kind, e.id) e.session_id, e.kind, e.id, e.created_ordinal, e.last_event_ordinal, e.tombstone, e.type_name, e.payload
        FROM unnest($8::text[], $9::text[], $10::text[], $11::int8[], $12::int8[], $13::bool[], $14::text[], $15::bytea[], $16::int8[])
          AS e(session_id, kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload, event_idx)
        JOIN input ON input.idx = e.event_idx
        JOIN ev ON ev.session_id = input.session_id AND ev.ordinal = input.ordinal
        ORDER BY e.session_id, e.kind, e.id, input.ordinal DESC
        ON CONFLICT (session_id, kind, id) DO UPDATE SET created_ordinal = excluded.created_ordinal,
          last_event_ordinal = excluded.last_event_ordinal, tombstone = excluded.tombstone,
          type_name = excluded.type_name, payload = excluded.payload
      )
      SELECT session_id, ordinal FROM ev`,
    // A rebuild's replay write: entities and the timeline cursor, no event, session cursor untouched.
    replayApply: `WITH ses AS (
        INSERT INTO ${s}.ss_sessions (session_id, cursor, timeline_cursor) VALUES ($1, 0, $2)
        ON CONFLICT (session_id) DO UPDATE SET timeline_cursor = excluded.timeline_cursor
      ), ent AS (
        ${entityUpsert(s, ENTITY_UNNEST)}
      )
      SELECT 1`,
    selectEvent: `SELECT name, type_name, payload, event_id FROM ${s}.ss_events WHERE session_id = $1 AND ordinal = $2`,
    lookupEvent: `SELECT (SELECT cursor FROM ${s}.ss_sessions WHERE session_id = $1) AS cursor,
      (SELECT ordinal FROM ${s}.ss_events WHERE session_id = $1 AND event_id = $2) AS ordinal`,
    fullSnapshot: `SELECT ${SNAPSHOT_COLUMNS}
      FROM (SELECT $1::text COLLATE "C" AS sid) q
      LEFT JOIN ${s}.ss_sessions s ON s.session_id = q.sid
      LEFT JOIN ${s}.ss_entities e ON e.session_id = q.sid AND NOT e.tombstone
      ORDER BY e.created_ordinal, e.kind, e.id`,
    deltaSnapshot: `SELECT ${SNAPSHOT_COLUMNS}
      FROM (SELECT $1::text COLLATE "C" AS sid) q
      LEFT JOIN ${s}.ss_sessions s ON s.session_id = q.sid
      LEFT JOIN ${s}.ss_entities e ON e.session_id = q.sid AND e.last_event_ordinal > $2::int8
      ORDER BY e.created_ordinal, e.kind, e.id`,
    selectCursor: `SELECT cursor, timeline_cursor, epoch FROM ${s}.ss_sessions WHERE session_id = $1`,
    selectEvents: `SELECT ordinal, name, type_name, payload, applied_at, event_id FROM ${s}.ss_events
      WHERE session_id = $1 AND ordinal > $2 ORDER BY ordinal LIMIT $3`,
    resetTimeline: `WITH d AS (DELETE FROM ${s}.ss_entities WHERE session_id = $1)
      UPDATE ${s}.ss_sessions SET timeline_cursor = 0, epoch = epoch + 1 WHERE session_id = $1`,
    lockSession: `SELECT cursor FROM ${s}.ss_sessions WHERE session_id = $1 FOR UPDATE`,
    deleteEntities: `DELETE FROM ${s}.ss_entities WHERE session_id = $1`,
    insertEntities: entityUpsert(s, ENTITY_UNNEST.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) - 1}`)),
    // A session first seen by a rebuild starts at epoch 1, so the bumped epoch is 2.
    bumpEpoch: `INSERT INTO ${s}.ss_sessions (session_id, cursor, timeline_cursor, epoch) VALUES ($1, 0, $2, 2)
      ON CONFLICT (session_id) DO UPDATE SET timeline_cursor = excluded.timeline_cursor, epoch = ${s}.ss_sessions.epoch + 1
      RETURNING epoch`,
    insertError: `INSERT INTO ${s}.ss_errors (session_id, ordinal, event_name, kind, code, message, recorded_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    selectErrors: `SELECT session_id, ordinal, event_name, kind, code, message, recorded_at FROM ${s}.ss_errors
      WHERE session_id = $1 ORDER BY id DESC LIMIT $2`,
    selectAllErrors: `SELECT session_id, ordinal, event_name, kind, code, message, recorded_at FROM ${s}.ss_errors
      ORDER BY id DESC LIMIT $1`,
    selectSessions: `SELECT session_id, cursor FROM ${s}.ss_sessions ORDER BY session_id`,
    insertRun: `INSERT INTO ${s}.ss_runs (run_id, session_id, kind, owner, state, data, started_at, heartbeat_at, stop_requested)
      VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)`,
    endRun: `UPDATE ${s}.ss_runs SET state = $2, ended_at = $3, error = $4 WHERE run_id = $1 AND state = 'running'`,
    selectRun: `SELECT ${RUN_COLUMNS} FROM ${s}.ss_runs WHERE run_id = $1`,
    selectSessionRuns: `SELECT ${RUN_COLUMNS} FROM ${s}.ss_runs WHERE session_id = $1 ORDER BY seq`,
    selectRunningRuns: `SELECT ${RUN_COLUMNS} FROM ${s}.ss_runs WHERE state = 'running' ORDER BY seq`,
    heartbeatRuns: `UPDATE ${s}.ss_runs SET heartbeat_at = $2 WHERE owner = $1 AND state = 'running' RETURNING run_id, stop_requested`,
    requestRunStop: `UPDATE ${s}.ss_runs SET stop_requested = true WHERE run_id = $1 AND state = 'running'`,
  } satisfies Record<string, string>;
}

/** The names of the store's statements. */
export type Statement = keyof ReturnType<typeof buildStatements>;
