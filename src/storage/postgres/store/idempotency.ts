// Idempotency keys on PostgreSQL: the positions an earlier call with the same key appended, so a
// retry gets the same answer; the request's digest tells a retry from another input.
import type pg from "pg";
import { LedgerError } from "../../../domain/errors.js";
import type { LedgerEvent } from "../../../domain/events.js";
import { type EventRow, rowToEvent } from "../../event-row.js";
import type { IdempotencyOptions } from "../../event-store.js";
import { EVENT_COLUMNS } from "../event-rows.js";

/** Events an earlier call with this key appended, or undefined; IDEMPOTENCY_CONFLICT on other input. Call with the stream locked. */
export async function replayed(client: pg.PoolClient, streamId: string, idem: IdempotencyOptions): Promise<LedgerEvent[] | undefined> {
  const { rows } = await client.query<{ request_hash: string; first_position: number; last_position: number }>(
    "SELECT request_hash, first_position, last_position FROM idempotency WHERE stream_id = $1 AND key = $2",
    [streamId, idem.key],
  );
  const r = rows[0];
  if (!r) return undefined;
  if (r.request_hash !== idem.requestHash) throw new LedgerError("IDEMPOTENCY_CONFLICT", "this idempotency key was used before with other input");
  const events = await client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position BETWEEN $1 AND $2 ORDER BY position`, [r.first_position, r.last_position]);
  return events.rows.map(rowToEvent);
}

/** Records the answer of a call that appended `events` under its key. */
export async function remember(client: pg.PoolClient, streamId: string, idem: IdempotencyOptions, events: readonly LedgerEvent[]): Promise<void> {
  if (events.length === 0) return;
  await client.query("INSERT INTO idempotency (stream_id, key, request_hash, first_position, last_position) VALUES ($1, $2, $3, $4, $5)", [
    streamId,
    idem.key,
    idem.requestHash,
    events[0]!.position,
    events.at(-1)!.position,
  ]);
}

/** Drops a stream's idempotency records (their digests cover personal input). */
export async function forget(client: pg.PoolClient, streamId: string): Promise<void> {
  await client.query("DELETE FROM idempotency WHERE stream_id = $1", [streamId]);
}
