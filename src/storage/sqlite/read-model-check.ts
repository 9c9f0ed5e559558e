// Notices read tables edited behind the log's back: compares each projection table with a rebuild
// of it from the log, read from one snapshot, in chunks that yield to the event loop.
import { createHash } from "node:crypto";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import Database from "better-sqlite3";
import { countEventsInSteps } from "./count-events.js";
import { PROJECTION_TABLES, migrate } from "./schema.js";
import type { SqliteEventStore } from "./sqlite-event-store.js";
import { SqliteProjections, type SubjectRows } from "./projections.js";
import type { ReadModelReport } from "../storage-port.js";

/** The rebuilt side by log head: a second check at the same head replays nothing. */
export interface RebuildCache {
  head: number;
  digests: Map<string, string>;
}

export interface ReadModelCheckOptions {
  /** Events replayed, and rows hashed, between two yields to the event loop (default 250: a few tens of milliseconds). */
  chunk?: number;
  /** Give back the loop between chunks; off for an in-memory store, whose snapshot cannot be held apart from its writer. */
  yieldBetweenChunks?: boolean;
  cache?: { current: RebuildCache | null };
}

/**
 * Compares the read tables of `store` with a rebuild from its own log, inside one read transaction
 * of that connection (open `store` read-only on the file, so the server's writer is not held up).
 */
export async function checkReadModels(store: SqliteEventStore, opts: ReadModelCheckOptions = {}): Promise<ReadModelReport> {
  const chunk = opts.chunk ?? 250;
  const pause = opts.yieldBetweenChunks ?? true ? () => yieldToLoop() : async () => undefined;
  const db = store.db;
  db.exec("BEGIN");
  try {
    const head = (db.prepare("SELECT COALESCE(MAX(position), 0) FROM events").pluck().get() as number) ?? 0;
    const counting = countEventsInSteps(db);
    let counted = counting.next();
    while (!counted.done) {
      await pause();
      counted = counting.next();
    }
    const eventCount = counted.value;
    let rebuilt = opts.cache?.current?.head === head ? opts.cache.current.digests : null;
    if (!rebuilt) {
      rebuilt = await rebuildDigests(store, head, chunk, pause);
      if (opts.cache) opts.cache.current = { head, digests: rebuilt };
    }
    const differingTables: string[] = [];
    for (const table of PROJECTION_TABLES) {
      if ((await tableDigest(db, table, chunk, pause)) !== rebuilt.get(table)) differingTables.push(table);
    }
    return { ok: differingTables.length === 0, differingTables, eventCount };
  } finally {
    db.exec("COMMIT");
  }
}

/** Replays the log up to `head` into a scratch in-memory database and digests its read tables. */
async function rebuildDigests(store: SqliteEventStore, head: number, chunk: number, pause: () => Promise<unknown>): Promise<Map<string, string>> {
  const scratch = new Database(":memory:");
  try {
    migrate(scratch);
    const projections = new SqliteProjections(scratch);
    const subjects: SubjectRows = new Map();
    let after = 0;
    while (after < head) {
      const events = store.readAll(after, Math.min(chunk, head - after));
      if (events.length === 0) break;
      scratch.transaction(() => {
        for (const e of events) projections.apply(e, subjects);
      })();
      after = events.at(-1)!.position;
      await pause();
    }
    // Subjects and current tables a chunk at a time: in one go this held the loop for about 200 ms at 100,000 events.
    const finish = projections.finishRebuildSteps(subjects, chunk);
    while (!scratch.transaction(() => finish.next().done)()) await pause();
    const digests = new Map<string, string>();
    for (const table of PROJECTION_TABLES) digests.set(table, await tableDigest(scratch, table, chunk, pause));
    return digests;
  } finally {
    scratch.close();
  }
}

/** SHA-256 over a table's rows in the order of all its columns: equal tables, equal digests. */
async function tableDigest(db: Database.Database, table: string, chunk: number, pause: () => Promise<unknown>): Promise<string> {
  const info = db.prepare("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid").all(table) as { name: string; pk: number }[];
  const columns = info.map((c) => `"${c.name}"`).join(", ");
  // Pages walk the primary key (every read table is WITHOUT ROWID, clustered on it): each page is
  // an index seek, and the order depends on the rows' content only, the same in both databases.
  const pk = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  const key = pk.length > 0 ? pk : info; // a table without a key is walked in the order of all its columns
  const keyCols = key.map((c) => `"${c.name}"`).join(", ");
  const hash = createHash("sha256");
  let n = 0;
  // A keyset walk instead of one long iterate(): no statement stays open across a yield.
  let last: unknown[] | null = null;
  const first = db.prepare(`SELECT ${columns} FROM ${table} ORDER BY ${keyCols} LIMIT ?`).raw();
  const next = db.prepare(`SELECT ${columns} FROM ${table} WHERE (${keyCols}) > (${key.map(() => "?").join(", ")}) ORDER BY ${keyCols} LIMIT ?`).raw();
  for (;;) {
    const rows = (last === null ? first.all(chunk) : next.all(...last, chunk)) as unknown[][];
    for (const row of rows) hash.update(`${JSON.stringify(row.map((v) => (Buffer.isBuffer(v) ? v.toString("hex") : v)))}\n`);
    n += rows.length;
    if (rows.length < chunk) break;
    const tail = rows.at(-1)!;
    last = key.map((c) => tail[info.indexOf(c)]);
    await pause();
  }
  hash.update(`rows ${n}`);
  return hash.digest("hex");
}
