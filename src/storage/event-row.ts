// The events table's row as both adapters store it, the event it holds, and the row's canonical content (what its hash covers).
import type { EventType, LedgerEvent } from "../domain/events.js";

export interface EventRow {
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
  data: string;
  prev_hash: Buffer;
  hash: Buffer;
}

/**
 * The canonical content of a stored row, written without re-encoding `data` (stored canonical).
 * Equal to canonicalJson(hashedContent(event)); a test holds the two together.
 */
export function canonicalRowContent(r: EventRow): string {
  return (
    `{"actor":{"id":${JSON.stringify(r.actor_id)},"kind":${JSON.stringify(r.actor_kind)}},"data":${r.data},` +
    `"id":${JSON.stringify(r.id)},"occurredAt":${r.occurred_at},"position":${r.position},"recordedAt":${r.recorded_at},` +
    `"schemaVersion":${r.schema_version},"streamId":${JSON.stringify(r.stream_id)},"streamVersion":${r.stream_version},` +
    `"subjectId":${r.subject_id === null ? "null" : JSON.stringify(r.subject_id)},"type":${JSON.stringify(r.type)}}`
  );
}

export function rowToEvent(r: EventRow): LedgerEvent {
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
