// How an event sits in the PostgreSQL `events` table, and back.
import type { EventType, LedgerEvent } from "../../domain/events.js";

export interface PgEventRow {
  position: number;
  id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  subject_id: string | null;
  occurred_at: number;
  recorded_at: number;
  actor_kind: string;
  actor_id: string;
  /** The event's data as canonical JSON text, exactly as hashed. */
  data: string;
  prev_hash: Buffer;
  hash: Buffer;
}

export const EVENT_COLUMNS =
  "position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at, actor_kind, actor_id, data, prev_hash, hash";

export function rowToEvent(r: PgEventRow): LedgerEvent {
  return {
    id: r.id,
    position: r.position,
    streamId: r.stream_id,
    streamVersion: r.stream_version,
    type: r.type as EventType,
    schemaVersion: r.schema_version,
    subjectId: r.subject_id,
    occurredAt: r.occurred_at,
    recordedAt: r.recorded_at,
    actor: { kind: r.actor_kind as LedgerEvent["actor"]["kind"], id: r.actor_id },
    data: JSON.parse(r.data),
    prevHash: r.prev_hash.toString("hex"),
    hash: r.hash.toString("hex"),
  } as LedgerEvent;
}
