// The scrub after an erasure: fold the WAL into the file, where secure_delete has zeroed deleted bytes.
import type Database from "better-sqlite3";

/**
 * Folds the WAL into the file and truncates it, so that deleted data (an erased subject's key)
 * survives in no old page image. A reader holding an older snapshot (a backup, an offline verify)
 * makes the checkpoint stop short; the caller retries later, never blocking in the busy handler.
 * Returns whether the checkpoint completed.
 */
export function scrubWal(db: Database.Database): boolean {
  const timeout = db.pragma("busy_timeout", { simple: true }) as number;
  db.pragma("busy_timeout = 0");
  try {
    const [r] = db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number; checkpointed: number }[];
    return r === undefined || r.busy === 0;
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
}
