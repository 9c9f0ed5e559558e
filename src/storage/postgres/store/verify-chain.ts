// The integrity walk on PostgreSQL: the whole chain in one snapshot, page by page.
import type pg from "pg";
import { GENESIS_HASH, canonicalJson, chainHash, hashedContent } from "../../../log/canonical.js";
import { type EventRow, rowToEvent } from "../../event-row.js";
import type { ChainHead, IntegrityReport } from "../../event-store.js";
import { EVENT_COLUMNS } from "../event-rows.js";

/** Rows per read when walking the log. */
const PAGE = 1_000;

/**
 * Walks the whole chain page by page (each page is one query, so the event loop is free between
 * them); names the first position whose link, hash or place in the order does not hold.
 */
export async function verifyChain(connect: () => Promise<pg.PoolClient>): Promise<IntegrityReport> {
  const client = await connect();
  try {
    // One snapshot for the count and the walk.
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const eventCount = (await client.query<{ n: number }>("SELECT count(*)::bigint AS n FROM events")).rows[0]!.n;
    let prev = GENESIS_HASH;
    let at = 0;
    let head: ChainHead | null = null;
    let firstInvalidPosition: number | null = null;
    for (;;) {
      const { rows } = await client.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT ${PAGE}`, [at]);
      for (const r of rows) {
        const e = rowToEvent(r);
        const holds =
          r.position === at + 1 &&
          e.prevHash === prev &&
          chainHash(prev, canonicalJson(hashedContent({ ...e, data: JSON.parse(r.data) }))) === e.hash &&
          canonicalJson(e.data) === r.data;
        if (!holds) {
          firstInvalidPosition = r.position;
          break;
        }
        prev = e.hash;
        at = r.position;
        head = { position: at, hash: prev };
      }
      if (firstInvalidPosition !== null || rows.length < PAGE) break;
    }
    await client.query("COMMIT");
    return { ok: firstInvalidPosition === null, eventCount, head, firstInvalidPosition };
  } finally {
    client.release();
  }
}
