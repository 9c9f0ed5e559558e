// The SQLite schema, as numbered migrations that run at open; each runs once, in its own transaction.
import type Database from "better-sqlite3";

const MIGRATIONS: readonly string[] = [
  // 1: the log, its guards, idempotency keys, evidence keys.
  `
  CREATE TABLE events (
    position       INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    stream_id      TEXT    NOT NULL,
    stream_version INTEGER NOT NULL,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    subject_id     TEXT,
    occurred_at    INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    actor_kind     TEXT    NOT NULL,
    actor_id       TEXT    NOT NULL,
    data           TEXT    NOT NULL,
    prev_hash      BLOB    NOT NULL,
    hash           BLOB    NOT NULL,
    UNIQUE (stream_id, stream_version)
  ) STRICT;
  CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
  CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;

  CREATE TABLE idempotency (
    stream_id      TEXT    NOT NULL,
    key            TEXT    NOT NULL,
    request_hash   TEXT    NOT NULL,
    first_position INTEGER NOT NULL,
    last_position  INTEGER NOT NULL,
    PRIMARY KEY (stream_id, key)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE subject_keys (
    subject_id TEXT PRIMARY KEY,
    key        BLOB NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  // 2: read models (see projections.ts); rebuildable from the log at any time.
  `
  CREATE TABLE subjects (
    subject_id TEXT PRIMARY KEY,
    status     TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    position   INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE consents (
    subject_id     TEXT    NOT NULL,
    policy_id      TEXT    NOT NULL,
    purpose_id     TEXT    NOT NULL,
    granted        INTEGER NOT NULL,
    occurred_at    INTEGER NOT NULL,
    expires_at     INTEGER,
    policy_version INTEGER NOT NULL,
    event_id       TEXT    NOT NULL,
    position       INTEGER NOT NULL,
    PRIMARY KEY (subject_id, policy_id, purpose_id)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE standings (
    subject_id       TEXT    NOT NULL,
    policy_id        TEXT    NOT NULL,
    accepted_version INTEGER NOT NULL,
    accepted_at      INTEGER NOT NULL,
    position         INTEGER NOT NULL,
    PRIMARY KEY (subject_id, policy_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX standings_by_policy ON standings (policy_id, accepted_version, subject_id);

  CREATE TABLE data_requests (
    id          TEXT PRIMARY KEY,
    subject_id  TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    opened_at   INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    closed_at   INTEGER,
    note        TEXT,
    position    INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX data_requests_by_subject ON data_requests (subject_id, opened_at);
  CREATE INDEX data_requests_by_status ON data_requests (status, due_at);
  `,
  // 3: bitemporal read models: every consent, acceptance and status change with its valid and
  // transaction time, so a read "as of" any instant is a few indexed lookups, not a replay.
  `
  CREATE TABLE consent_history (
    subject_id     TEXT    NOT NULL,
    policy_id      TEXT    NOT NULL,
    purpose_id     TEXT    NOT NULL,
    occurred_at    INTEGER NOT NULL,
    position       INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    granted        INTEGER NOT NULL,
    expires_at     INTEGER,
    policy_version INTEGER NOT NULL,
    event_id       TEXT    NOT NULL,
    PRIMARY KEY (subject_id, policy_id, purpose_id, occurred_at, position)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE acceptance_history (
    subject_id  TEXT    NOT NULL,
    policy_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, policy_id, version, occurred_at, position)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE status_history (
    subject_id  TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    PRIMARY KEY (subject_id, position)
  ) STRICT, WITHOUT ROWID;
  `,
  // 4: the catalogue's publications found without reading the log (opening a ledger reads only these).
  `
  CREATE INDEX events_publications ON events (position) WHERE type = 'PolicyVersionPublished';
  `,
  // 5: the transparency log. The tree's leaves are the events' hashes; its perfect
  // subtrees above the leaves are stored once each, keyed by post-order (the order appends complete
  // them, so rows are only ever added at the end); the latest signed checkpoint, which only grows.
  // An existing log gets its tree at the next start, in chunks (see merkle-tree.ts).
  `
  CREATE TABLE merkle_nodes (
    post_order INTEGER PRIMARY KEY,
    hash       BLOB    NOT NULL
  ) STRICT;

  CREATE TABLE merkle_tree (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    leaves INTEGER NOT NULL
  ) STRICT;
  INSERT INTO merkle_tree (id, leaves) VALUES (1, 0);

  CREATE TABLE checkpoint_latest (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    tree_size    INTEGER NOT NULL,
    root         BLOB    NOT NULL,
    note         TEXT    NOT NULL,
    published_at INTEGER NOT NULL
  ) STRICT;
  CREATE TRIGGER checkpoint_only_grows BEFORE UPDATE ON checkpoint_latest
    WHEN NEW.tree_size <= OLD.tree_size
    BEGIN SELECT RAISE(ABORT, 'a checkpoint may only extend the latest one'); END;
  CREATE TRIGGER checkpoint_kept BEFORE DELETE ON checkpoint_latest
    BEGIN SELECT RAISE(ABORT, 'the latest checkpoint is never deleted'); END;
  `,
  // 6: lifecycle details (scoped suspension, return, merge), data-request details, due time-driven
  // changes (expiries and versions coming into effect), and third-party transfer records.
  `
  ALTER TABLE subjects ADD COLUMN suspended_purposes TEXT;
  ALTER TABLE subjects ADD COLUMN returned_at INTEGER;
  ALTER TABLE subjects ADD COLUMN merged_into TEXT;
  ALTER TABLE status_history ADD COLUMN suspended_purposes TEXT;
  ALTER TABLE status_history ADD COLUMN returned_at INTEGER;
  ALTER TABLE status_history ADD COLUMN merged_into TEXT;
  ALTER TABLE data_requests ADD COLUMN purpose_ids TEXT;
  ALTER TABLE data_requests ADD COLUMN closing_note TEXT;
  ALTER TABLE data_requests ADD COLUMN identity_label TEXT;
  ALTER TABLE consents ADD COLUMN expiry_noted INTEGER NOT NULL DEFAULT 0;
  -- A grant recorded after its expiry (a late import) is reported by its own event, as the projection decides it.
  UPDATE consents SET expiry_noted = 1
    WHERE expires_at IS NOT NULL AND expires_at <= (SELECT recorded_at FROM events WHERE events.id = consents.event_id);
  CREATE INDEX consents_due ON consents (expires_at) WHERE granted = 1 AND expires_at IS NOT NULL AND expiry_noted = 0;

  CREATE TABLE expiry_notes (
    grant_event_id TEXT PRIMARY KEY,
    subject_id     TEXT    NOT NULL,
    position       INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE version_effects (
    policy_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    effective_at   INTEGER NOT NULL,
    noted_position INTEGER,
    PRIMARY KEY (policy_id, version)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX version_effects_due ON version_effects (effective_at) WHERE noted_position IS NULL;
  CREATE INDEX version_effects_by_position ON version_effects (noted_position) WHERE noted_position IS NOT NULL;
  INSERT INTO version_effects (policy_id, version, effective_at, noted_position)
    SELECT json_extract(data, '$.policyId'), json_extract(data, '$.number'), json_extract(data, '$.effectiveAt'),
           CASE WHEN json_extract(data, '$.effectiveAt') <= recorded_at THEN position END
    FROM events WHERE type = 'PolicyVersionPublished';

  CREATE TABLE transfers (
    id              TEXT PRIMARY KEY,
    subject_id      TEXT    NOT NULL,
    occurred_at     INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    direction       TEXT    NOT NULL,
    counterparty_id TEXT    NOT NULL,
    purpose_id      TEXT,
    basis           TEXT    NOT NULL,
    retain_until    INTEGER NOT NULL,
    position        INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX transfers_by_subject ON transfers (subject_id, occurred_at, position);
  `,
  // Webhooks: registrations with their acknowledged cursor, and a record of their deliveries.
  `
  CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    url             TEXT    NOT NULL,
    description     TEXT,
    policy_id       TEXT,
    purpose_ids     TEXT,
    secret          BLOB    NOT NULL,
    enabled         INTEGER NOT NULL,
    disabled_reason TEXT,
    created_at      INTEGER NOT NULL,
    cursor_position INTEGER NOT NULL,
    cursor_index    INTEGER
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE webhook_deliveries (
    webhook_id      TEXT    NOT NULL,
    position        INTEGER NOT NULL,
    idx             INTEGER NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    last_attempt_at INTEGER,
    next_attempt_at INTEGER,
    PRIMARY KEY (webhook_id, position, idx)
  ) STRICT, WITHOUT ROWID;
  `,
  // Who had accepted a policy by a log position: the subjects a version coming into effect there can change.
  `
  CREATE INDEX IF NOT EXISTS acceptance_history_by_policy ON acceptance_history (policy_id, subject_id, position);
  `,
  // The days each data request was extended by in total, so the cap is decided in the extending transaction.
  `
  ALTER TABLE data_requests ADD COLUMN extended_days INTEGER NOT NULL DEFAULT 0;
  UPDATE data_requests SET extended_days = COALESCE((
    SELECT SUM(json_extract(e.data, '$.days')) FROM events e
    WHERE e.type = 'DataRequestExtended' AND json_extract(e.data, '$.requestId') = data_requests.id), 0);
  `,
];

/** The newest schema version this build knows. */
export const SCHEMA_VERSION_LATEST = MIGRATIONS.length;

export { PROJECTION_TABLES } from "../projection-tables.js";

/** Brings the database to the newest schema; safe to call on every start. */
export function migrate(db: Database.Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT");
  const done = (db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").get() as { v: number }).v;
  if (done > MIGRATIONS.length) throw new Error(`the database schema (${done}) is newer than this build knows (${MIGRATIONS.length})`);
  MIGRATIONS.forEach((sql, i) => {
    const version = i + 1;
    if (version <= done) return;
    db.transaction(() => {
      db.exec(sql);
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(version, Date.now());
    }).immediate();
  });
}
