// Idempotency keys on SQLite: the positions an earlier call with the same key appended, so a retry
// gets the same answer; the request's digest tells a retry from another input.
import { LedgerError } from "../../../domain/errors.js";
import type { LedgerEvent } from "../../../domain/events.js";
import { type EventRow, rowToEvent } from "../../event-row.js";
import type { IdempotencyOptions } from "../../event-store.js";
import type { EventStatements } from "./statements.js";

/** Events an earlier call with this key appended, or undefined; IDEMPOTENCY_CONFLICT on other input. */
export function replayed(s: EventStatements, streamId: string, idem: IdempotencyOptions): LedgerEvent[] | undefined {
  const r = s.idemGet.get(streamId, idem.key) as { request_hash: string; first_position: number; last_position: number } | undefined;
  if (!r) return undefined;
  if (r.request_hash !== idem.requestHash)
    throw new LedgerError("IDEMPOTENCY_CONFLICT", "this idempotency key was used before with other input");
  return (s.readRange.all(r.first_position, r.last_position) as EventRow[]).map(rowToEvent);
}

/** Records the answer of a call that appended `events` under its key. */
export function remember(s: EventStatements, streamId: string, idem: IdempotencyOptions, events: readonly LedgerEvent[]): void {
  if (events.length === 0) return;
  s.idemPut.run(streamId, idem.key, idem.requestHash, events[0]!.position, events.at(-1)!.position);
}

/** Drops a stream's idempotency records (their digests cover personal input). */
export function forget(s: EventStatements, streamId: string): void {
  s.idemForget.run(streamId);
}
