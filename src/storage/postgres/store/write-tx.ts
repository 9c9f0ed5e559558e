// One command's view of its group commit's transaction: the streams it locked (with their
// versions), its appends after the chain tip, and its idempotency answers.
import type pg from "pg";
import { LedgerError } from "../../../domain/errors.js";
import type { LedgerEvent } from "../../../domain/events.js";
import type { Lifecycle } from "../../../domain/subject.js";
import type { IdempotencyOptions, NewEvent } from "../../event-store.js";
import { statusesBefore } from "../read-models/projection-writes.js";
import { appendLocked } from "./append.js";
import type { BatchTip } from "./chain-tip.js";
import { StreamBusy, isLockBusy } from "./deadlock-retry.js";
import { forget, remember, replayed } from "./idempotency.js";

/** Runs inside one transaction that holds the locks of the streams it touched until commit. */
export interface PgWriteTx {
  readonly client: pg.PoolClient;
  /** Locks the stream (creating its head row) and returns its version. */
  lockStream(streamId: string): Promise<number>;
  /** Appends after checking the stream's version (null skips the check); continues the one chain. */
  /** `statusBefore`: the subjects' lifecycles before these events, when the caller has read them already. */
  append(streamId: string, expectedVersion: number | null, events: readonly NewEvent[], statusBefore?: ReadonlyMap<string, Lifecycle>): Promise<LedgerEvent[]>;
  /** Events an earlier call with this key appended, or undefined; IDEMPOTENCY_CONFLICT on other input. */
  replay(streamId: string, idem: IdempotencyOptions): Promise<LedgerEvent[] | undefined>;
  remember(streamId: string, idem: IdempotencyOptions, events: readonly LedgerEvent[]): Promise<void>;
  /** Drops a stream's idempotency records (their digests cover personal input). */
  forget(streamId: string): Promise<void>;
}

/**
 * One work's view of the batch transaction: the streams it locked (with their versions) are its
 * own, so a work rolled back to its savepoint leaves nothing behind. `now`: the command's instant,
 * which the chain records as transaction time (never going back).
 */
export function writeTx(client: pg.PoolClient, now: number, held: BatchTip, appended: (position: number) => void): PgWriteTx {
  const locked = new Map<string, number>();
  // Holding the tip an earlier work took, this work must not wait for a stream (see GroupCommit.runBatch).
  const nowait = held.tip !== null;
  // The head row is the stream's lock, made if the stream is new, in one round trip: the insert
  // does nothing for a stream that exists (and returns no row), and the select, which does not see
  // a row inserted by its own statement, locks the existing one. A second writer waits on the lock
  // until the first commits, then reads the version the first left (READ COMMITTED re-reads the
  // newest row version). Neither returns a row when another transaction made the stream after
  // this statement's snapshot: the next try sees it.
  const lockQuery = (streamId: string) => ({
    name: nowait ? "ledger_lock_stream_nowait" : "ledger_lock_stream",
    text: `WITH made AS (INSERT INTO streams (stream_id, version) VALUES ($1, 0) ON CONFLICT (stream_id) DO NOTHING RETURNING version)
           SELECT version FROM made
           UNION ALL SELECT version FROM (SELECT version FROM streams WHERE stream_id = $1 FOR UPDATE${nowait ? " NOWAIT" : ""}) existing`,
    values: [streamId],
  });
  const lockStream = async (streamId: string): Promise<number> => {
    const known = locked.get(streamId);
    if (known !== undefined) return known;
    for (;;) {
      const { rows } = await client.query<{ version: number }>(lockQuery(streamId)).catch((e: unknown) => {
        throw nowait && isLockBusy(e) ? new StreamBusy(streamId, e) : e;
      });
      if (rows[0]) {
        locked.set(streamId, rows[0].version);
        return rows[0].version;
      }
    }
  };
  return {
    client,
    lockStream,
    append: async (streamId, expectedVersion, events, statusBefore) => {
      const current = await lockStream(streamId);
      if (expectedVersion !== null && expectedVersion !== current)
        throw new LedgerError("VERSION_CONFLICT", `expected version ${expectedVersion}, the stream is at ${current}`, {
          expectedVersion,
          actualVersion: current,
        });
      if (events.length === 0) return [];
      const subjects = [...new Set(events.map((e) => e.subjectId).filter((id): id is string => id !== null))];
      // Read before the chain tip is taken: every lock-holding round trip counts against every writer.
      const statuses = subjects.every((id) => statusBefore?.has(id)) ? new Map(statusBefore) : await statusesBefore(client, subjects);
      const out = await appendLocked(client, held, streamId, current, events, now, statuses);
      locked.set(streamId, current + out.length);
      appended(out.at(-1)!.position);
      return out;
    },
    replay: async (streamId, idem) => {
      await lockStream(streamId);
      return replayed(client, streamId, idem);
    },
    remember: (streamId, idem, events) => remember(client, streamId, idem, events),
    forget: (streamId) => forget(client, streamId),
  };
}
