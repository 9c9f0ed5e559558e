// Reading the log on PostgreSQL: a stream in version order, the whole log after a position.
import type pg from "pg";
import type { LedgerEvent } from "../../../domain/events.js";
import { type EventRow, rowToEvent } from "../../event-row.js";
import type { ReadFilter } from "../../event-store.js";
import { EVENT_COLUMNS } from "../event-rows.js";

/** A read through the pool, as the store makes it (STORE_UNAVAILABLE when the server is gone). */
export type PoolRead = <R extends pg.QueryResultRow>(sql: string | pg.QueryConfig, params?: unknown[]) => Promise<pg.QueryResult<R>>;

/** Most events one readAll answers. */
const MAX_READ = 100_000;

export async function readStream(read: PoolRead, streamId: string): Promise<LedgerEvent[]> {
  const { rows } = await read<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`, [streamId]);
  return rows.map(rowToEvent);
}

/** Events after a position, in order; filtered by subject and/or type. */
export async function readAll(read: PoolRead, afterPosition: number, limit: number, filter?: ReadFilter): Promise<LedgerEvent[]> {
  const where = ["position > $1"];
  const params: unknown[] = [afterPosition, Math.max(0, Math.min(limit, MAX_READ))];
  if (filter?.subjectId !== undefined) {
    params.push(`subject:${filter.subjectId}`);
    where.push(`stream_id = $${params.length}`);
  }
  if (filter?.types && filter.types.length > 0) {
    params.push([...filter.types]);
    where.push(`type = ANY($${params.length}::text[])`);
  }
  const { rows } = await read<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(" AND ")} ORDER BY position LIMIT $2`, params);
  return rows.map(rowToEvent);
}

/** The events after `after` on a client of its own (the change pump's connection). */
export async function readAllWith(client: pg.ClientBase, after: number, limit: number): Promise<LedgerEvent[]> {
  return (await client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`, [after, limit])).rows.map(rowToEvent);
}
