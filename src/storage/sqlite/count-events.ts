// The number of events in the log, counted a run of rows at a time: one COUNT(*) over the whole
// table is whole-log work in one step, which the event loop would wait out.
import type Database from "better-sqlite3";

/** Rows counted per step: counting walks the rows' pages, about 1 ms per 1,000 events once cached, several times that from disk. */
const COUNT_STEP = 1_000;

/**
 * COUNT(*) of the events table, `step` rows at a time in position order, yielding between steps.
 * Steps go by rows, not by ranges of positions, so a gap in the positions (a row moved far away)
 * costs nothing. Run inside one read transaction, the total is the table's COUNT(*) at that snapshot.
 */
export function* countEventsInSteps(db: Database.Database, step = COUNT_STEP): Generator<void, number, void> {
  // Positions as BigInt: a row moved beyond 2^53 must not be rounded onto another.
  const firstEnd = db.prepare("SELECT position FROM events ORDER BY position LIMIT 1 OFFSET ?").pluck().safeIntegers(true);
  const nextEnd = db.prepare("SELECT position FROM events WHERE position > ? ORDER BY position LIMIT 1 OFFSET ?").pluck().safeIntegers(true);
  const restAll = db.prepare("SELECT COUNT(*) FROM events").pluck();
  const rest = db.prepare("SELECT COUNT(*) FROM events WHERE position > ?").pluck();
  let n = 0;
  let after: bigint | null = null;
  for (;;) {
    // The position of the step-th row from here: when there is one, a whole step of rows lies up to it.
    const end = (after === null ? firstEnd.get(step - 1) : nextEnd.get(after, step - 1)) as bigint | undefined;
    if (end === undefined) return n + ((after === null ? restAll.get() : rest.get(after)) as number);
    n += step;
    after = end;
    yield;
  }
}
