// The PostgreSQL schema, as numbered migrations applied at start in one transaction under an advisory
// lock, so that replicas starting together migrate once and the others wait, then find it done.
import type pg from "pg";

/** pg_advisory_xact_lock key of schema migrations ("ledger-m" as a 64-bit integer). */
const MIGRATION_LOCK = "7810687208431791469";

const MIGRATIONS: readonly string[] = [
  // 1: the log and its guards, the chain's tip, stream heads (the per-stream lock), idempotency
  // keys, evidence keys.
  `
  CREATE TABLE events (
    position       BIGINT   PRIMARY KEY CHECK (position > 0),
    id             TEXT COLLATE "C"     NOT NULL UNIQUE,
    stream_id      TEXT COLLATE "C"     NOT NULL,
    stream_version BIGINT   NOT NULL,
    type           TEXT COLLATE "C"     NOT NULL,
    schema_version INTEGER  NOT NULL,
    subject_id     TEXT COLLATE "C",
    occurred_at    BIGINT   NOT NULL,
    recorded_at    BIGINT   NOT NULL,
    actor_kind     TEXT COLLATE "C"     NOT NULL,
    actor_id       TEXT COLLATE "C"     NOT NULL,
    data           TEXT COLLATE "C"     NOT NULL,
    prev_hash      BYTEA    NOT NULL,
    hash           BYTEA    NOT NULL,
    UNIQUE (stream_id, stream_version)
  );
  CREATE INDEX events_by_stream_position ON events (stream_id, position);
  CREATE INDEX events_by_type_position ON events (type, position);
  CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'events are append-only: % refused', TG_OP; END $$;
  CREATE TRIGGER events_refuse_change BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
  CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

  -- One row: the chain's last link. Every append locks it, so positions are handed out one
  -- transaction at a time and become visible in position order (see README "How it works").
  CREATE TABLE chain_tip (
    singleton   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    position    BIGINT  NOT NULL,
    hash        BYTEA   NOT NULL,
    recorded_at BIGINT  NOT NULL
  );
  INSERT INTO chain_tip (position, hash, recorded_at) VALUES (0, decode(repeat('00', 32), 'hex'), 0);

  CREATE TABLE streams (
    stream_id TEXT COLLATE "C"   PRIMARY KEY,
    version   BIGINT NOT NULL
  );

  CREATE TABLE idempotency (
    stream_id      TEXT COLLATE "C"   NOT NULL,
    key            TEXT COLLATE "C"   NOT NULL,
    request_hash   TEXT COLLATE "C"   NOT NULL,
    first_position BIGINT NOT NULL,
    last_position  BIGINT NOT NULL,
    PRIMARY KEY (stream_id, key)
  );

  CREATE TABLE subject_keys (
    subject_id TEXT COLLATE "C"  PRIMARY KEY,
    key        BYTEA NOT NULL
  );
  `,
  // 2: read models, kept in the append's transaction; rebuildable from the log.
  `
  CREATE TABLE subjects (
    subject_id TEXT COLLATE "C"   PRIMARY KEY,
    status     TEXT COLLATE "C"   NOT NULL,
    version    BIGINT NOT NULL,
    position   BIGINT NOT NULL
  );
  CREATE TABLE consents (
    subject_id     TEXT COLLATE "C"    NOT NULL,
    policy_id      TEXT COLLATE "C"    NOT NULL,
    purpose_id     TEXT COLLATE "C"    NOT NULL,
    granted        BOOLEAN NOT NULL,
    occurred_at    BIGINT  NOT NULL,
    expires_at     BIGINT,
    policy_version INTEGER NOT NULL,
    event_id       TEXT COLLATE "C"    NOT NULL,
    position       BIGINT  NOT NULL,
    PRIMARY KEY (subject_id, policy_id, purpose_id)
  );
  CREATE TABLE standings (
    subject_id       TEXT COLLATE "C"    NOT NULL,
    policy_id        TEXT COLLATE "C"    NOT NULL,
    accepted_version INTEGER NOT NULL,
    accepted_at      BIGINT  NOT NULL,
    position         BIGINT  NOT NULL,
    PRIMARY KEY (subject_id, policy_id)
  );
  CREATE INDEX standings_by_policy ON standings (policy_id, accepted_version, subject_id);
  CREATE TABLE data_requests (
    id          TEXT COLLATE "C"   PRIMARY KEY,
    subject_id  TEXT COLLATE "C"   NOT NULL,
    kind        TEXT COLLATE "C"   NOT NULL,
    status      TEXT COLLATE "C"   NOT NULL,
    opened_at   BIGINT NOT NULL,
    due_at      BIGINT NOT NULL,
    closed_at   BIGINT,
    note        TEXT COLLATE "C",
    position    BIGINT NOT NULL
  );
  CREATE INDEX data_requests_by_subject ON data_requests (subject_id, opened_at);
  CREATE INDEX data_requests_by_status ON data_requests (status, due_at);
  CREATE TABLE consent_history (
    subject_id     TEXT COLLATE "C"    NOT NULL,
    policy_id      TEXT COLLATE "C"    NOT NULL,
    purpose_id     TEXT COLLATE "C"    NOT NULL,
    occurred_at    BIGINT  NOT NULL,
    position       BIGINT  NOT NULL,
    recorded_at    BIGINT  NOT NULL,
    granted        BOOLEAN NOT NULL,
    expires_at     BIGINT,
    policy_version INTEGER NOT NULL,
    event_id       TEXT COLLATE "C"    NOT NULL,
    PRIMARY KEY (subject_id, policy_id, purpose_id, occurred_at, position)
  );
  CREATE TABLE acceptance_history (
    subject_id  TEXT COLLATE "C"    NOT NULL,
    policy_id   TEXT COLLATE "C"    NOT NULL,
    version     INTEGER NOT NULL,
    occurred_at BIGINT  NOT NULL,
    position    BIGINT  NOT NULL,
    recorded_at BIGINT  NOT NULL,
    PRIMARY KEY (subject_id, policy_id, version, occurred_at, position)
  );
  CREATE TABLE status_history (
    subject_id  TEXT COLLATE "C"   NOT NULL,
    position    BIGINT NOT NULL,
    occurred_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    status      TEXT COLLATE "C"   NOT NULL,
    PRIMARY KEY (subject_id, position)
  );
  `,
  // 3: the transparency log, kept by the sequencer: the tip row also says how far the
  // tree reaches and holds its compact range (the roots of the perfect subtrees over [0, leaves),
  // largest first, 32 bytes each), so that an append extends the tree with what it already locked.
  // Nodes are stored from level TREE_STORED_LEVEL up (see merkle-tree.ts); lower ones are hashed from
  // the events when read. An existing log gets its tree at start, in chunks. The latest signed
  // checkpoint is one row that may only grow.
  `
  ALTER TABLE chain_tip
    ADD COLUMN tree_leaves BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN tree_border BYTEA  NOT NULL DEFAULT ''::bytea,
    ADD CONSTRAINT chain_tip_tree_within_log CHECK (tree_leaves >= 0 AND tree_leaves <= position);

  CREATE TABLE merkle_nodes (
    post_order BIGINT PRIMARY KEY,
    hash       BYTEA  NOT NULL CHECK (length(hash) = 32)
  );

  CREATE TABLE checkpoint_latest (
    singleton    BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    tree_size    BIGINT  NOT NULL CHECK (tree_size >= 0),
    root         BYTEA   NOT NULL,
    note         TEXT    NOT NULL,
    published_at BIGINT  NOT NULL
  );
  CREATE FUNCTION ledger_checkpoint_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP <> 'UPDATE' THEN RAISE EXCEPTION 'the latest checkpoint is never deleted'; END IF;
      IF NEW.tree_size <= OLD.tree_size THEN RAISE EXCEPTION 'a checkpoint may only extend the latest one'; END IF;
      RETURN NEW;
    END $$;
  CREATE TRIGGER checkpoint_only_grows BEFORE UPDATE OR DELETE ON checkpoint_latest
    FOR EACH ROW EXECUTE FUNCTION ledger_checkpoint_only_grows();
  CREATE TRIGGER checkpoint_kept BEFORE TRUNCATE ON checkpoint_latest
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_checkpoint_only_grows();
  `,
  // 4: lifecycle details (scoped suspension, return, merge), data-request details, the due
  // time-driven changes (expiries and versions coming into effect, each behind a partial index), and
  // third-party transfer records. Versions already published are entered from the log.
  `
  ALTER TABLE subjects ADD COLUMN suspended_purposes TEXT COLLATE "C", ADD COLUMN returned_at BIGINT, ADD COLUMN merged_into TEXT COLLATE "C";
  ALTER TABLE status_history ADD COLUMN suspended_purposes TEXT COLLATE "C", ADD COLUMN returned_at BIGINT, ADD COLUMN merged_into TEXT COLLATE "C";
  ALTER TABLE data_requests ADD COLUMN purpose_ids TEXT COLLATE "C", ADD COLUMN closing_note TEXT COLLATE "C", ADD COLUMN identity_label TEXT COLLATE "C";
  ALTER TABLE consents ADD COLUMN expiry_noted BOOLEAN NOT NULL DEFAULT false;
  -- A grant recorded after its expiry (a late import) is reported by its own event, as the projection decides it.
  UPDATE consents c SET expiry_noted = true FROM events e WHERE e.id = c.event_id AND c.expires_at IS NOT NULL AND c.expires_at <= e.recorded_at;
  CREATE INDEX consents_due ON consents (expires_at) WHERE granted AND expires_at IS NOT NULL AND NOT expiry_noted;
  CREATE INDEX standings_by_policy_subject ON standings (policy_id, subject_id);

  CREATE TABLE expiry_notes (
    grant_event_id TEXT COLLATE "C" PRIMARY KEY,
    subject_id     TEXT COLLATE "C" NOT NULL,
    position       BIGINT NOT NULL
  );

  CREATE TABLE version_effects (
    policy_id      TEXT COLLATE "C" NOT NULL,
    version        INTEGER NOT NULL,
    effective_at   BIGINT  NOT NULL,
    noted_position BIGINT,
    PRIMARY KEY (policy_id, version)
  );
  CREATE INDEX version_effects_due ON version_effects (effective_at) WHERE noted_position IS NULL;
  CREATE INDEX version_effects_by_position ON version_effects (noted_position) WHERE noted_position IS NOT NULL;
  INSERT INTO version_effects (policy_id, version, effective_at, noted_position)
    SELECT data::json->>'policyId', (data::json->>'number')::integer, (data::json->>'effectiveAt')::bigint,
           CASE WHEN (data::json->>'effectiveAt')::bigint <= recorded_at THEN position END
    FROM events WHERE type = 'PolicyVersionPublished';

  CREATE TABLE transfers (
    id              TEXT COLLATE "C" PRIMARY KEY,
    subject_id      TEXT COLLATE "C" NOT NULL,
    occurred_at     BIGINT NOT NULL,
    recorded_at     BIGINT NOT NULL,
    direction       TEXT COLLATE "C" NOT NULL,
    counterparty_id TEXT COLLATE "C" NOT NULL,
    purpose_id      TEXT COLLATE "C",
    basis           TEXT COLLATE "C" NOT NULL,
    retain_until    BIGINT NOT NULL,
    position        BIGINT NOT NULL
  );
  CREATE INDEX transfers_by_subject ON transfers (subject_id, occurred_at, position);
  `,
  // Webhooks: registrations with their acknowledged cursor, a record of their deliveries, and the
  // lease that lets one replica at a time deliver each.
  `
  CREATE TABLE webhooks (
    id              TEXT COLLATE "C" PRIMARY KEY,
    url             TEXT NOT NULL,
    description     TEXT,
    policy_id       TEXT COLLATE "C",
    purpose_ids     TEXT,
    secret          BYTEA NOT NULL,
    enabled         BOOLEAN NOT NULL,
    disabled_reason TEXT,
    created_at      BIGINT NOT NULL,
    cursor_position BIGINT NOT NULL,
    cursor_index    INTEGER
  );
  CREATE TABLE webhook_deliveries (
    webhook_id      TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    position        BIGINT NOT NULL,
    idx             INTEGER NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    last_attempt_at BIGINT,
    next_attempt_at BIGINT,
    PRIMARY KEY (webhook_id, position, idx)
  );
  CREATE TABLE webhook_leases (
    webhook_id TEXT COLLATE "C" PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
  );
  `,
  // Who had accepted a policy by a log position: the subjects a version coming into effect there can change.
  `
  CREATE INDEX IF NOT EXISTS acceptance_history_by_policy ON acceptance_history (policy_id, subject_id, position);
  `,
  // The days each data request was extended by in total, so the cap is decided in the extending transaction.
  `
  ALTER TABLE data_requests ADD COLUMN extended_days INTEGER NOT NULL DEFAULT 0;
  UPDATE data_requests d SET extended_days = x.days
    FROM (SELECT e.data::jsonb ->> 'requestId' AS id, SUM((e.data::jsonb ->> 'days')::int) AS days
          FROM events e WHERE e.type = 'DataRequestExtended' GROUP BY 1) x
    WHERE d.id = x.id;
  `,
];

export { PROJECTION_TABLES } from "../projection-tables.js";

export const SCHEMA_VERSION_LATEST = MIGRATIONS.length;

/**
 * Brings the database to the newest schema in one transaction. The advisory lock makes a second
 * replica starting at the same moment wait for the first, then find nothing left to do.
 */
export async function migrate(client: pg.ClientBase): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
    const { rows } = await client.query<{ v: number }>("SELECT COALESCE(MAX(version), 0)::int AS v FROM schema_migrations");
    const done = rows[0]!.v;
    if (done > MIGRATIONS.length) throw new Error(`the database schema (${done}) is newer than this build knows (${MIGRATIONS.length})`);
    for (let i = done; i < MIGRATIONS.length; i++) {
      await client.query(MIGRATIONS[i]!);
      await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [i + 1, Date.now()]);
    }
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}
