// The log's event count, taken a step of rows at a time: the same as COUNT(*), in bounded steps, whatever the positions.
import Database from "better-sqlite3";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countEventsInSteps } from "../../../src/storage/sqlite/count-events.js";

/** Runs the count to its end; returns the total and how many times it yielded. */
function count(db: Database.Database, step: number): { n: number; pauses: number } {
  const counting = countEventsInSteps(db, step);
  let pauses = 0;
  for (;;) {
    const s = counting.next();
    if (s.done) return { n: s.value, pauses };
    pauses++;
  }
}

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

describe("countEventsInSteps", () => {
  it("equals COUNT(*) for any positions (gaps, 0 and below, beyond 2^53), yielding once per full step", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.oneof(fc.bigInt({ min: 1n, max: 3_000n }), fc.bigInt(INT64)), { maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        (positions, step) => {
          const db = new Database(":memory:");
          db.exec("CREATE TABLE events (position INTEGER PRIMARY KEY)");
          const insert = db.prepare("INSERT INTO events (position) VALUES (?)");
          for (const p of positions) insert.run(p);
          const { n, pauses } = count(db, step);
          expect(n).toBe(positions.length);
          expect(pauses).toBe(Math.floor(positions.length / step));
          db.close();
        },
      ),
    );
  });

  it("counts a log of 1, 2, … n in steps of the given size", () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE events (position INTEGER PRIMARY KEY)");
    db.exec("WITH RECURSIVE p(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM p WHERE x < 2500) INSERT INTO events SELECT x FROM p");
    expect(count(db, 1_000)).toEqual({ n: 2_500, pauses: 2 });
    expect(count(db, 2_500)).toEqual({ n: 2_500, pauses: 1 });
    db.close();
  });
});
