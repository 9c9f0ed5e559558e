// The columns PostgreSQL reads an event from; the row's shape and mapping are shared with SQLite.
export const EVENT_COLUMNS =
  "position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at, actor_kind, actor_id, data, prev_hash, hash";
