/**
 * Bumped on every schema change; stored in SQLite's `user_version`.
 * 1: events, entities, sessions, errors. 2: runs (`ss_runs`).
 */
export const SCHEMA_VERSION = 2;

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
) WITHOUT ROWID;

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
) WITHOUT ROWID;

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
