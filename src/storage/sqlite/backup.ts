// An online backup of the ledger's database (SQLite's backup API), safe while the server writes.
import { chmodSync, closeSync, existsSync, openSync } from "node:fs";
import Database from "better-sqlite3";
import { SqliteEventStore } from "./sqlite-event-store.js";
import type { BackupReport } from "../storage-port.js";

/**
 * Copies `sourcePath` to `destinationPath` through a second, read-only connection. With WAL the
 * server's writers are never blocked; the copy is one consistent snapshot (SQLite restarts a copy
 * that a commit overtook, and after the first step the rest goes in one step, under one snapshot).
 * Pages freed by an erasure were zeroed (secure_delete), so a backup made after it holds no key.
 * Subject keys are copied as stored, wrapped under the KEK: the copy alone opens no evidence.
 */
export async function backupDatabase(sourcePath: string, destinationPath: string, opts: { overwrite?: boolean } = {}): Promise<BackupReport> {
  if (sourcePath === ":memory:") throw new Error("an in-memory database has nothing to back up");
  if (!existsSync(sourcePath)) throw new Error(`no database at ${sourcePath}`);
  if (existsSync(destinationPath) && !opts.overwrite) throw new Error(`${destinationPath} exists; choose another file (or pass --force)`);
  // The copy holds what the database holds: owner-only, from its first byte (an empty file is an empty database).
  closeSync(openSync(destinationPath, opts.overwrite ? "w" : "wx", 0o600));
  chmodSync(destinationPath, 0o600);
  const source = new Database(sourcePath, { readonly: true, fileMustExist: true });
  let pages = 0;
  try {
    source.pragma("busy_timeout = 5000");
    const r = await source.backup(destinationPath, {
      progress: ({ totalPages }) => {
        pages = totalPages;
        return totalPages;
      },
    });
    pages = r.totalPages;
  } finally {
    source.close();
  }
  const copy = new SqliteEventStore({ path: destinationPath, readonly: true });
  try {
    return { source: sourcePath, destination: destinationPath, pages, chain: copy.verify() };
  } finally {
    await copy.close();
  }
}
