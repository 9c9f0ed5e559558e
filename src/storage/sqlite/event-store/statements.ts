// The event store's prepared statements on SQLite.
import type Database from "better-sqlite3";

export function prepareEventStatements(db: Database.Database) {
  return {
    insert: db.prepare(
      `INSERT INTO events (position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at, actor_kind, actor_id, data, prev_hash, hash)
       VALUES (@position, @id, @stream_id, @stream_version, @type, @schema_version, @subject_id, @occurred_at, @recorded_at, @actor_kind, @actor_id, @data, @prev_hash, @hash)`,
    ),
    tip: db.prepare("SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"),
    streamVersion: db.prepare("SELECT MAX(stream_version) AS v FROM events WHERE stream_id = ?").pluck(),
    readStream: db.prepare("SELECT * FROM events WHERE stream_id = ? ORDER BY stream_version"),
    readAll: db.prepare("SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?"),
    readRange: db.prepare("SELECT * FROM events WHERE position BETWEEN ? AND ? ORDER BY position"),
    readAllStream: db.prepare("SELECT * FROM events WHERE stream_id = ? AND position > ? ORDER BY position LIMIT ?"),
    idemGet: db.prepare("SELECT request_hash, first_position, last_position FROM idempotency WHERE stream_id = ? AND key = ?"),
    idemForget: db.prepare("DELETE FROM idempotency WHERE stream_id = ?"),
    idemPut: db.prepare("INSERT INTO idempotency (stream_id, key, request_hash, first_position, last_position) VALUES (?, ?, ?, ?, ?)"),
    count: db.prepare("SELECT COUNT(*) FROM events").pluck(),
    publications: db.prepare("SELECT * FROM events WHERE type = 'PolicyVersionPublished' ORDER BY position"),
  };
}

export type EventStatements = ReturnType<typeof prepareEventStatements>;
