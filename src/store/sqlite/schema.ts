/**
 * Bumped on every schema change; stored in SQLite's `user_version`.
 * 1: events, entities, sessions, errors. 2: runs (`ss_runs`). 3: events and
 * entities in rowid tables (see {@link REBUILD_AS_ROWID_SQL}).
 */
export const SCHEMA_VERSION = 3;

/** Idempotent DDL of the current schema version (every table `IF NOT EXISTS`, so it also upgrades an older file). */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS ss_sessions (
  session_id      TEXT PRIMARY KEY,
  cursor          INTEGER NOT NULL DEFAULT 0,
  timeline_cursor INTEGER NOT NULL DEFAULT 0,
  epoch           INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ss_events (
  session_id TEXT NOT NULL,
  ordinal    INTEGER NOT NULL,
  name       TEXT NOT NULL,
  type_name  TEXT NOT NULL,
  payload    BLOB NOT NULL,
  applied_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, ordinal)
);

CREATE TABLE IF NOT EXISTS ss_entities (
  session_id         TEXT NOT NULL,
  kind               TEXT NOT NULL,
  id                 TEXT NOT NULL,
  created_ordinal    INTEGER NOT NULL,
  last_event_ordinal INTEGER NOT NULL,
  tombstone          INTEGER NOT NULL DEFAULT 0,
  type_name          TEXT NOT NULL,
  payload            BLOB NOT NULL,
  PRIMARY KEY (session_id, kind, id)
);

CREATE INDEX IF NOT EXISTS ss_entities_changed ON ss_entities (session_id, last_event_ordinal);

CREATE TABLE IF NOT EXISTS ss_errors (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id  TEXT NOT NULL,
  ordinal     INTEGER,
  event_name  TEXT,
  kind        TEXT NOT NULL,
  code        TEXT NOT NULL,
  message     TEXT NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ss_errors_session ON ss_errors (session_id, id);

CREATE TABLE IF NOT EXISTS ss_runs (
  run_id         TEXT PRIMARY KEY,
  session_id     TEXT NOT NULL,
  kind           TEXT NOT NULL,
  owner          TEXT NOT NULL,
  state          TEXT NOT NULL,
  data           TEXT NOT NULL,
  started_at     INTEGER NOT NULL,
  heartbeat_at   INTEGER NOT NULL,
  ended_at       INTEGER,
  error          TEXT,
  stop_requested INTEGER NOT NULL DEFAULT 0,
  seq            INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ss_runs_session ON ss_runs (session_id, seq);
CREATE INDEX IF NOT EXISTS ss_runs_running ON ss_runs (state, owner);
`;

/**
 * Version 3 moves events and entities out of WITHOUT ROWID tables. Those
 * keep each row inside the primary-key B-tree, so the writes of a thousand
 * interleaved sessions land all over it and every entity rewrite (a chat
 * message is rewritten on each token) moves kilobytes within it; SQLite
 * advises WITHOUT ROWID only for rows under a twentieth of a page. In a
 * rowid table the rows append and the key index holds only the key: about
 * 1.5x the events per second (bench/results/README.md). Runs in the
 * migration's transaction; the data is copied as it is.
 */
export const REBUILD_AS_ROWID_SQL = `
ALTER TABLE ss_events RENAME TO ss_events_v2;
ALTER TABLE ss_entities RENAME TO ss_entities_v2;
DROP INDEX IF EXISTS ss_entities_changed;
${SCHEMA_SQL}
INSERT INTO ss_events SELECT session_id, ordinal, name, type_name, payload, applied_at FROM ss_events_v2 ORDER BY session_id, ordinal;
INSERT INTO ss_entities SELECT session_id, kind, id, created_ordinal, last_event_ordinal, tombstone, type_name, payload FROM ss_entities_v2;
DROP TABLE ss_events_v2;
DROP TABLE ss_entities_v2;
`;
