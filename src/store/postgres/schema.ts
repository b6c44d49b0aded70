/**
 * Versioned schema migrations of the PostgreSQL store. Each runs once, in
 * order, inside the migration transaction (see `migrate.ts`) and is recorded
 * in `ss_migrations`. Never edit a released migration: append a new one.
 * Key columns use the "C" collation so that ordering matches the other
 * stores (byte order, not the database's locale).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The DDL, given the quoted schema name. */
  sql(schema: string): string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "event log, entities, session cursors, error records",
    sql: (s) => `
CREATE TABLE ${s}.ss_sessions (
  session_id      text COLLATE "C" PRIMARY KEY,
  cursor          bigint NOT NULL DEFAULT 0,
  timeline_cursor bigint NOT NULL DEFAULT 0,
  epoch           bigint NOT NULL DEFAULT 1
);

CREATE TABLE ${s}.ss_events (
  session_id text COLLATE "C" NOT NULL,
  ordinal    bigint NOT NULL,
  name       text NOT NULL,
  type_name  text NOT NULL,
  payload    bytea NOT NULL,
  applied_at bigint NOT NULL,
  PRIMARY KEY (session_id, ordinal)
);

CREATE TABLE ${s}.ss_entities (
  session_id         text COLLATE "C" NOT NULL,
  kind               text COLLATE "C" NOT NULL,
  id                 text COLLATE "C" NOT NULL,
  created_ordinal    bigint NOT NULL,
  last_event_ordinal bigint NOT NULL,
  tombstone          boolean NOT NULL DEFAULT false,
  type_name          text NOT NULL,
  payload            bytea NOT NULL,
  PRIMARY KEY (session_id, kind, id)
);
CREATE INDEX ss_entities_changed ON ${s}.ss_entities (session_id, last_event_ordinal);

CREATE TABLE ${s}.ss_errors (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id  text COLLATE "C" NOT NULL,
  ordinal     bigint,
  event_name  text,
  kind        text NOT NULL,
  code        text NOT NULL,
  message     text NOT NULL,
  recorded_at bigint NOT NULL
);
CREATE INDEX ss_errors_session ON ${s}.ss_errors (session_id, id);
`,
  },
  {
    version: 2,
    name: "event ids (idempotency keys of a cluster bus)",
    sql: (s) => `
ALTER TABLE ${s}.ss_events ADD COLUMN event_id text COLLATE "C";
CREATE UNIQUE INDEX ss_events_event_id ON ${s}.ss_events (session_id, event_id) WHERE event_id IS NOT NULL;
`,
  },
  {
    version: 3,
    name: "runs (long work per session: owner, state, heartbeat, stop requests)",
    sql: (s) => `
CREATE TABLE ${s}.ss_runs (
  run_id         text COLLATE "C" PRIMARY KEY,
  session_id     text COLLATE "C" NOT NULL,
  kind           text NOT NULL,
  owner          text NOT NULL,
  state          text NOT NULL,
  data           jsonb NOT NULL,
  started_at     bigint NOT NULL,
  heartbeat_at   bigint NOT NULL,
  ended_at       bigint,
  error          text,
  stop_requested boolean NOT NULL DEFAULT false,
  seq            bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX ss_runs_session ON ${s}.ss_runs (session_id, seq);
CREATE INDEX ss_runs_running ON ${s}.ss_runs (owner) WHERE state = 'running';
`,
  },
];

/** The newest schema version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
