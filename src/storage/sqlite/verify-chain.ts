// The integrity walk over the events table: the reference check per row, and the fast walk that must agree with it.
import { hash as oneShotHash } from "node:crypto";
import Database from "better-sqlite3";
import { GENESIS_HASH, chainHash } from "../../log/canonical.js";
import type { ChainHead, IntegrityReport } from "../event-store.js";
import { type EventRow, canonicalRowContent } from "../event-row.js";
import { countEventsInSteps } from "./count-events.js";

/** Whether row `r` continues a chain whose last hash is `prevHex`, judged on the row as stored: the reference check. */
function linkHolds(r: EventRow, prevHex: string): boolean {
  return r.prev_hash.toString("hex") === prevHex && chainHash(prevHex, canonicalRowContent(r)) === r.hash.toString("hex");
}

/** The chain check over rows in position order: the reference that the store's walk, verifyStoredChain, must agree with. */
export function verifyChain(rows: Iterable<EventRow>): IntegrityReport {
  let prev = GENESIS_HASH;
  let expectedPosition = 0;
  let count = 0;
  let head: ChainHead | null = null;
  let firstInvalidPosition: number | null = null;
  for (const r of rows) {
    count++;
    if (firstInvalidPosition !== null) continue; // keep counting so the report says how long the log is
    if (r.position !== ++expectedPosition || !linkHolds(r, prev)) {
      firstInvalidPosition = r.position;
      continue;
    }
    prev = r.hash.toString("hex");
    head = { position: r.position, hash: prev };
  }
  return { ok: firstInvalidPosition === null, eventCount: count, head, firstInvalidPosition };
}

/**
 * canonicalRowContent written by SQLite, so the walk gets one string per row instead of twelve values.
 * Byte for byte the same for rows of a STRICT events table: json_quote escapes exactly what JSON.stringify
 * does (`"`, `\`, U+0000-U+001F, the same short forms, lowercase \u00xx; invalid UTF-8 reads back as U+FFFD
 * either way) and NULL as `null`; integers print the same digits as long as a double holds them, which
 * CANONICAL_ROW_EXACT checks. A test holds this and canonicalRowContent together on generated rows.
 */
export const CANONICAL_ROW_SQL = `concat('{"actor":{"id":', json_quote(actor_id), ',"kind":', json_quote(actor_kind), '},"data":', data,
  ',"id":', json_quote(id), ',"occurredAt":', occurred_at, ',"position":', position, ',"recordedAt":', recorded_at,
  ',"schemaVersion":', schema_version, ',"streamId":', json_quote(stream_id), ',"streamVersion":', stream_version,
  ',"subjectId":', json_quote(subject_id), ',"type":', json_quote(type), '}')`;

/** Beyond 2^53 better-sqlite3 hands JS a rounded number, so canonicalRowContent and SQLite would print different digits. */
const CANONICAL_ROW_EXACT = ["position", "stream_version", "schema_version", "occurred_at", "recorded_at"]
  .map((c) => `${c} BETWEEN ${-Number.MAX_SAFE_INTEGER} AND ${Number.MAX_SAFE_INTEGER}`)
  .join(" AND ");

/**
 * Each row of a position range, in order, as one string: its hash and its prev_hash in lower-case hex, then
 * its canonical content; from character 64 on, that is the input of its hash whenever the link holds.
 * NULL when SQLite may not write the content as canonicalRowContent would, or a hash is not 32 bytes long.
 * One string per row, not an array of columns, because building rows is much of better-sqlite3's cost.
 */
const walkSql = (link: string) => `SELECT ${link} FROM events WHERE position BETWEEN ? AND ? ORDER BY position`;
const WALK_SQL = walkSql(
  `CASE WHEN length(hash) = 32 AND length(prev_hash) = 32 AND ${CANONICAL_ROW_EXACT}
   THEN lower(hex(hash) || hex(prev_hash)) || ${CANONICAL_ROW_SQL} END`,
);
/** Without STRICT a column may hold any type (json_quote refuses BLOBs, REALs print otherwise): every row takes the reference check. */
const WALK_SQL_LOOSE = walkSql("NULL");
/** Positions per read: enough to amortise the statement, small enough to stay in cache. */
const WALK_CHUNK = 512;
/** Chunks walked between two pauses of the asynchronous walk. */
const YIELD_EVERY_CHUNKS = 4;

/**
 * verifyChain over the events table, without a row object per event: SQLite writes each row's hashes and
 * canonical content as one string, JS hashes and compares strings. A row this cannot vouch for (SQLite
 * declined to write it, or its link does not hold) is read whole and judged by the reference check, so
 * every verdict is the reference one. One read transaction, so the count and the walk see the same log.
 */
export function verifyStoredChain(db: Database.Database): IntegrityReport {
  return db.transaction((): IntegrityReport => {
    const walk = walkStoredChain(db);
    for (;;) {
      const step = walk.next();
      if (step.done) return step.value;
    }
  })();
}

/**
 * verifyStoredChain without holding the event loop: the walk runs on its own read-only connection
 * (one snapshot, so the count and the walk see the same log) and `pause` runs between chunks.
 * An in-memory database has no second connection: it is walked in one go.
 */
export async function verifyStoredChainAsync(db: Database.Database, pause: () => Promise<void>): Promise<IntegrityReport> {
  if (db.memory) return verifyStoredChain(db);
  const reader = new Database(db.name, { readonly: true, fileMustExist: true });
  try {
    reader.pragma("busy_timeout = 5000");
    reader.exec("BEGIN");
    const walk = walkStoredChain(reader);
    for (;;) {
      const step = walk.next();
      if (step.done) return step.value;
      await pause();
    }
  } finally {
    if (reader.inTransaction) reader.exec("COMMIT");
    reader.close();
  }
}

/** The walk, a chunk per step; call inside one read transaction. */
function* walkStoredChain(db: Database.Database): Generator<void, IntegrityReport> {
  const strict = db.prepare("SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = 'events'").pluck().get() === 1;
  const walk = db.prepare(strict ? WALK_SQL : WALK_SQL_LOOSE).pluck();
  const positionsIn = db.prepare("SELECT position FROM events WHERE position BETWEEN ? AND ? ORDER BY position").pluck();
  const least = db.prepare("SELECT MIN(position) FROM events").pluck();
  const firstAfter = db.prepare("SELECT MIN(position) FROM events WHERE position > ?").pluck();
  const rowAt = db.prepare("SELECT * FROM events WHERE position = ?");
  const eventCount = yield* countEventsInSteps(db);
  let prev = GENESIS_HASH;
  let at = 0;
  const report = (firstInvalidPosition: number | null): IntegrityReport => ({
    ok: firstInvalidPosition === null,
    eventCount,
    head: at === 0 ? null : { position: at, hash: prev },
    firstInvalidPosition,
  });
  // Rows come in position order, so the first one not at 1 (moved to 0 or below, or 1 missing) is the first invalid.
  const first = least.get() as number | null;
  if (first !== null && first !== 1) return report(first);
  for (;;) {
    const links = walk.all(at + 1, at + WALK_CHUNK) as (string | null)[];
    // A full range holds every position in it (positions are unique integers); a short one may have gaps.
    const positions = links.length === WALK_CHUNK ? null : (positionsIn.all(at + 1, at + WALK_CHUNK) as number[]);
    for (let i = 0; i < links.length; i++) {
      const position = positions === null ? at + 1 : positions[i]!;
      if (position !== at + 1) return report(position);
      const link = links[i]!;
      let hash: string | null = null;
      if (link !== null && link.startsWith(prev, 64)) {
        // crypto.hash, not createHash: no Hash object per row, which costs about as much as SHA-256 itself here.
        const computed = oneShotHash("sha256", link.slice(64));
        if (link.startsWith(computed)) hash = computed;
      }
      if (hash === null) {
        const r = rowAt.get(position) as EventRow;
        if (!linkHolds(r, prev)) return report(position);
        hash = r.hash.toString("hex");
      }
      prev = hash;
      at = position;
    }
    if (links.length < WALK_CHUNK) {
      if (at === eventCount) return report(null);
      // Rows remain past a gap: the next of them is the first out of sequence.
      return report(firstAfter.get(at) as number);
    }
    // A pause point every few chunks: a few milliseconds of hashing at most between them.
    if ((at / WALK_CHUNK) % YIELD_EVERY_CHUNKS === 0) yield;
  }
}
