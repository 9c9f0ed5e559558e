// Appends/s of the SQLite event store (group commit, one commit per append) against raw better-sqlite3 loops.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import { subjectStream } from "../src/domain/events.js";
import type { NewEvent } from "../src/storage/event-store.js";
import { GENESIS_HASH, canonicalJson, chainHash } from "../src/log/canonical.js";
import { migrate } from "../src/storage/sqlite/schema.js";
import { canonicalRowContent } from "../src/storage/event-row.js";
import { SCHEMA_VERSION, SqliteEventStore } from "../src/storage/sqlite/sqlite-event-store.js";
import { type BenchOptions, type BenchRow, fmt, grantData, median, pool, since, tempDir } from "./util.js";

type Row = Parameters<typeof canonicalRowContent>[0];

export const CONCURRENCY = 32;

/** The event appender `w` appends as its i-th append. */
export function benchEvent(w: number, i: number): NewEvent {
  return {
    type: "ConsentGranted",
    occurredAt: Date.now(),
    data: grantData(i) as NewEvent["data"] & { purposeId: string },
    actor: { kind: "SUBJECT", id: `s${w}` },
    subjectId: `s${w}`,
  } as NewEvent;
}

/**
 * The baseline: a plain better-sqlite3 loop writing the store's own table (same schema, indexes and
 * triggers, same pragmas) with the same SHA-256 chain over the same canonical row, `perTx` rows per commit.
 * Returns appends/s.
 */
export function rawInsertLoop(path: string, total: number, perTx: number, streams = CONCURRENCY): number {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("secure_delete = ON");
  db.pragma("foreign_keys = ON");
  migrate(db);
  const insert = db.prepare(
    `INSERT INTO events (position, id, stream_id, stream_version, type, schema_version, subject_id, occurred_at, recorded_at, actor_kind, actor_id, data, prev_hash, hash)
     VALUES (@position, @id, @stream_id, @stream_version, @type, @schema_version, @subject_id, @occurred_at, @recorded_at, @actor_kind, @actor_id, @data, @prev_hash, @hash)`,
  );
  const versions = new Array<number>(streams).fill(0);
  let tip = { position: 0, hash: GENESIS_HASH };
  const batch = db.transaction((from: number, to: number) => {
    const now = Date.now();
    for (let i = from; i < to; i++) {
      const w = i % streams;
      const row: Row = {
        position: tip.position + 1,
        id: randomUUID(),
        stream_id: subjectStream(`s${w}`),
        stream_version: ++versions[w]!,
        type: "ConsentGranted",
        schema_version: SCHEMA_VERSION,
        subject_id: `s${w}`,
        occurred_at: now,
        recorded_at: now,
        actor_kind: "SUBJECT",
        actor_id: `s${w}`,
        data: canonicalJson(grantData(i)),
        prev_hash: Buffer.from(tip.hash, "hex"),
        hash: Buffer.alloc(0),
      };
      const hash = chainHash(tip.hash, canonicalRowContent(row));
      row.hash = Buffer.from(hash, "hex");
      insert.run(row);
      tip = { position: row.position, hash };
    }
  });
  const start = performance.now();
  for (let i = 0; i < total; i += perTx) batch(i, Math.min(total, i + perTx));
  const ms = since(start);
  db.close();
  return (total / ms) * 1000;
}

/** The store under `concurrency` appenders, each on its own subject stream; returns appends/s. */
export async function storeAppends(path: string, total: number, concurrency: number): Promise<number> {
  const store = new SqliteEventStore({ path });
  const counts = new Array<number>(concurrency).fill(0);
  const start = performance.now();
  await pool(total, concurrency, (_i, w) => store.append(subjectStream(`s${w}`), null, [benchEvent(w, counts[w]!++)]));
  const ms = since(start);
  const n = store.eventCount();
  await store.close();
  if (n !== total) throw new Error(`store holds ${n} events, expected ${total}`);
  return (total / ms) * 1000;
}

export interface StoreAppendSizes {
  grouped: number;
  single: number;
}

export const storeAppendSizes = (o: BenchOptions): StoreAppendSizes => (o.quick ? { grouped: 640, single: 100 } : { grouped: 9_600, single: 1_000 });

/** One run of the four figures, each on a fresh file in a temp folder. */
export async function storeAppendRun(sizes: StoreAppendSizes) {
  const t = tempDir();
  try {
    const rawBatched = rawInsertLoop(join(t.dir, "raw-batched.db"), sizes.grouped, CONCURRENCY);
    const grouped = await storeAppends(join(t.dir, "store-grouped.db"), sizes.grouped, CONCURRENCY);
    const rawSingle = rawInsertLoop(join(t.dir, "raw-single.db"), sizes.single, 1);
    const single = await storeAppends(join(t.dir, "store-single.db"), sizes.single, 1);
    return { rawBatched, grouped, rawSingle, single };
  } finally {
    t.cleanup();
  }
}

export async function benchStoreAppend(o: BenchOptions): Promise<BenchRow[]> {
  const sizes = storeAppendSizes(o);
  await storeAppendRun({ grouped: 320, single: 50 }); // warm-up: JIT, page cache
  const runs: Awaited<ReturnType<typeof storeAppendRun>>[] = [];
  for (let r = 0; r < o.runs; r++) runs.push(await storeAppendRun(sizes));
  const m = (k: keyof (typeof runs)[number]) => median(runs.map((x) => x[k]));
  const ratio = (a: keyof (typeof runs)[number], b: keyof (typeof runs)[number]) => median(runs.map((x) => x[a] / x[b]));
  const vsBatched = ratio("grouped", "rawBatched");
  const vsSingleTx = ratio("grouped", "rawSingle");
  const singleVsRaw = ratio("single", "rawSingle");
  const how = `${sizes.grouped.toLocaleString("en-US")} appends of one ConsentGranted event (sealed-evidence-sized data), ${CONCURRENCY} concurrent appenders each on its own subject stream, file DB in a temp dir, WAL + synchronous=FULL; baseline: a better-sqlite3 loop writing the same table (same schema, triggers, pragmas) with the same SHA-256 chain over the same canonical row, ${CONCURRENCY} rows per transaction (the store's commit size under ${CONCURRENCY} appenders); median of ${o.runs} runs, each run measuring both.`;
  const rows: BenchRow[] = [
    {
      bench: "store-append",
      what: `store appends/s, ${CONCURRENCY} concurrent appenders, synchronous=FULL (group commit)`,
      figure: `${fmt(m("grouped"))} appends/s`,
      baseline: `${fmt(m("rawBatched"))} rows/s raw batched insert`,
      ratio: vsBatched,
      aim: ">= 0.7x raw batched",
      met: vsBatched >= 0.7,
      how,
      values: { grouped: m("grouped"), rawBatched: m("rawBatched"), ratio: vsBatched },
    },
    {
      bench: "store-append",
      what: "group commit vs one transaction per append",
      figure: `${fmt(m("grouped"))} appends/s (store, ${CONCURRENCY} appenders)`,
      baseline: `${fmt(m("rawSingle"))} appends/s raw loop, one transaction (one fsync) per append`,
      ratio: vsSingleTx,
      aim: ">= 5x one transaction per append",
      met: vsSingleTx >= 5,
      how: `The group-commit figure above against a better-sqlite3 loop with the same hashing that commits after every row (${sizes.single.toLocaleString("en-US")} appends), same run.`,
      values: { ratio: vsSingleTx, rawSingle: m("rawSingle") },
    },
    {
      bench: "store-append",
      what: "store appends/s, one transaction per append (1 appender) — issue 2",
      figure: `${fmt(m("single"))} appends/s`,
      baseline: `${fmt(m("rawSingle"))} appends/s raw loop, one transaction per append`,
      ratio: singleVsRaw,
      aim: "(reported)",
      met: null,
      how: `One appender awaiting each append (${sizes.single.toLocaleString("en-US")} appends), so every append is its own commit and fsync; against the raw loop committing every row, same run.`,
      values: { single: m("single"), ratio: singleVsRaw },
    },
  ];
  if (vsBatched < 0.7)
    rows[0]!.note =
      "The store does per append what the raw loop does not: a `SELECT MAX(stream_version)` per stream, a savepoint per command (db.transaction nested in BEGIN IMMEDIATE), a re-read of the chain tip per commit, rowToEvent (JSON.parse of the data just written, two hex encodings) and promise resolution per append. Caching stream versions and the tip in memory while the process is the only writer, and building the LedgerEvent from the NewEvent instead of re-parsing the row, would close most of the gap.";
  if (vsSingleTx < 5)
    rows[1]!.note = "One fsync per commit bounds the per-append loop; the group commit's gain is the number of appends that share a commit, bounded here by 32 appenders and by the CPU spent per append between commits.";
  return rows;
}
