// Whether the SQLite file can take writes: which failures say the database cannot (rather than the
// command was wrong), and the cheap checks that tell when such a cause has passed.
import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/** Free space below which a store that has failed a commit does not call itself writable again. */
const MIN_FREE_BYTES = 1 << 20;

/** SQLite result codes that say the database cannot take writes now, not that the command was wrong. */
const STORAGE_FAILURE = /^SQLITE_(FULL|IOERR|READONLY|BUSY|LOCKED|NOMEM|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/;

export const isStorageFailure = (e: unknown): boolean =>
  e instanceof Database.SqliteError && STORAGE_FAILURE.test(e.code);

/** Cheap checks for the causes of a failed commit: query_only, max_page_count, a full file system. */
export function probeWritable(db: Database.Database, path: string): boolean {
  try {
    if (db.pragma("query_only", { simple: true }) !== 0) return false;
    const pages = db.pragma("page_count", { simple: true }) as number;
    if (pages >= (db.pragma("max_page_count", { simple: true }) as number)) return false;
    if (path !== ":memory:" && path !== "") {
      const fs = statfsSync(dirname(path));
      if (fs.bavail * fs.bsize < MIN_FREE_BYTES) return false;
    }
    return true;
  } catch {
    return false;
  }
}
