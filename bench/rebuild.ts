// Rebuild of every projection from the log, against a raw read of the events table and a raw insert loop.
import { join } from "node:path";
import type { Ledger } from "../src/ledger.js";
import { populatedLedger } from "./populate.js";
import { rawInsertLoop } from "./store-append.js";
import { type BenchOptions, type BenchRow, fmt, median, since, tempDir, sqlite } from "./util.js";

/** Reads every row of the events table in position order, as a plain better-sqlite3 loop would; returns rows/s. */
export function rawRead(ledger: Ledger): { perSecond: number; rows: number } {
  const stmt = sqlite(ledger).store.db.prepare("SELECT * FROM events ORDER BY position");
  const start = performance.now();
  let rows = 0;
  for (const r of stmt.iterate()) if (r) rows++;
  return { perSecond: (rows / since(start)) * 1000, rows };
}

/** Rebuilds the projections; returns events/s and the count the rebuild reports. */
export async function timedRebuild(ledger: Ledger): Promise<{ perSecond: number; events: number }> {
  const start = performance.now();
  const events = (await ledger.rebuild());
  return { perSecond: (events / since(start)) * 1000, events };
}

export async function benchRebuild(o: BenchOptions): Promise<BenchRow[]> {
  const t = tempDir();
  try {
    const ledger = await populatedLedger(join(t.dir, "ledger.db"), o);
    const runs: { rebuild: number; raw: number; insert: number; events: number }[] = [];
    await timedRebuild(ledger); // warm-up
    for (let r = 0; r < o.runs; r++) {
      const raw = rawRead(ledger);
      const rebuild = await timedRebuild(ledger);
      // Issue 2: the same run's raw better-sqlite3 insert loop with the same hashing, large batches.
      const insert = rawInsertLoop(join(t.dir, `raw-insert-${r}.db`), o.quick ? 2_000 : 50_000, 1_000);
      runs.push({ rebuild: rebuild.perSecond, raw: raw.perSecond, insert, events: rebuild.events });
      if (raw.rows !== rebuild.events) throw new Error(`rebuild replayed ${rebuild.events} events, the table holds ${raw.rows}`);
    }
    await ledger.close();
    const rebuild = median(runs.map((x) => x.rebuild));
    const vsRead = median(runs.map((x) => x.rebuild / x.raw));
    const vsInsert = median(runs.map((x) => x.rebuild / x.insert));
    const events = runs[0]!.events;
    const how = `(await ledger.rebuild()) (DELETE every projection table, replay the log in chunks of 10,000 through the projection appliers, one transaction) over ${events.toLocaleString("en-US")} events written by recordConsent (accept + grants + withdrawals, sealed evidence) in a file DB; baseline: iterating \`SELECT * FROM events ORDER BY position\` with better-sqlite3 on the same file, same run; median of ${o.runs} runs.`;
    const rows: BenchRow[] = [
      {
        bench: "rebuild",
        what: "rebuild of all projections",
        figure: `${fmt(rebuild)} events/s`,
        baseline: `${fmt(median(runs.map((x) => x.raw)))} rows/s raw read of the events table`,
        ratio: vsRead,
        aim: ">= 200,000 events/s",
        met: rebuild >= 200_000,
        how,
        values: { rebuild, raw: median(runs.map((x) => x.raw)), events, ratio: vsRead },
      },
      {
        bench: "rebuild",
        what: "rebuild events/s vs raw insert loop with the same hashing — issue 2",
        figure: `${fmt(rebuild)} events/s`,
        baseline: `${fmt(median(runs.map((x) => x.insert)))} rows/s raw better-sqlite3 insert loop (SHA-256 chain, 1,000 rows per transaction)`,
        ratio: vsInsert,
        aim: "(reported)",
        met: null,
        how: "The rebuild figure above against a raw insert loop writing the store's table with the same chain hashing, measured in the same run.",
        values: { ratio: vsInsert },
      },
    ];
    if (rebuild < 200_000)
      rows[0]!.note =
        "The raw read of every column alone runs at about 200k rows/s on this machine, so the aim leaves no room for decoding and writing. Per event the rebuild decodes the row (store.readAll: JSON.parse of the data, hex of two hashes) and writes one or two rows (the current projection and, since the bitemporal read models, its history row); the subjects table is kept in memory and written once. What would move it: reading only the columns the projections use without hex-encoding hashes, deriving the current consents and standings from the history tables with one INSERT … SELECT at the end instead of an upsert per event, and a larger page cache during the rebuild.";
    return rows;
  } finally {
    t.cleanup();
  }
}
