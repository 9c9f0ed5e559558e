// An online backup of the ledger's database (SQLite's backup API), safe while the server writes.
import { randomBytes } from "node:crypto";
import { type Stats, closeSync, constants, existsSync, linkSync, lstatSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import Database from "better-sqlite3";
import { SqliteEventStore } from "./sqlite-event-store.js";
import type { BackupReport } from "../storage-port.js";

/** The files a live SQLite database is made of: the database and its write-ahead log, shared memory and rollback journal. */
const PARTS = ["", "-wal", "-shm", "-journal"];

const lstatOrNull = (path: string): Stats | null => {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
};

/**
 * Refuses a destination that is the source database or one of its parts, under any name (a path
 * through `..` or a symlinked folder, a hard link: compared by device and inode), and any
 * destination that is a symlink, which `--force` would otherwise write through onto its target.
 */
function checkDestination(sourcePath: string, destinationPath: string): Stats | null {
  const dest = lstatOrNull(destinationPath);
  if (dest?.isSymbolicLink()) throw new Error(`${destinationPath} is a symbolic link; a backup is never written through one (name the file itself)`);
  if (dest && !dest.isFile()) throw new Error(`${destinationPath} is not a regular file`);
  if (dest)
    for (const part of PARTS) {
      let live: Stats;
      try {
        live = statSync(sourcePath + part);
      } catch {
        continue;
      }
      if (live.dev === dest.dev && live.ino === dest.ino)
        throw new Error(`${destinationPath} is the live database${part ? `'s ${part.slice(1)} file` : ""} (${sourcePath + part}); a backup cannot overwrite what it copies`);
    }
  return dest;
}

/**
 * Copies `sourcePath` to `destinationPath` through a second, read-only connection. With WAL the
 * server's writers are never blocked; the copy is one consistent snapshot (SQLite restarts a copy
 * that a commit overtook, and after the first step the rest goes in one step, under one snapshot).
 * Pages freed by an erasure were zeroed (secure_delete), so a backup made after it holds no key.
 * Subject keys are copied as stored, wrapped under the KEK: the copy alone opens no evidence.
 *
 * The copy is made in a new file beside the destination (created exclusively, owner-only) and
 * renamed over it only once it verifies: a rename replaces the name, never writes through a link,
 * and an existing file is kept until a good copy takes its place. The destination may not be the
 * live database, any name of it, or a symlink (see checkDestination).
 */
export async function backupDatabase(sourcePath: string, destinationPath: string, opts: { overwrite?: boolean } = {}): Promise<BackupReport> {
  if (sourcePath === ":memory:") throw new Error("an in-memory database has nothing to back up");
  if (!existsSync(sourcePath)) throw new Error(`no database at ${sourcePath}`);
  const existing = checkDestination(sourcePath, destinationPath);
  if (existing && !opts.overwrite) throw new Error(`${destinationPath} exists; choose another file (or pass --force)`);
  // The copy holds what the database holds: owner-only, from its first byte (an empty file is an empty database).
  const temporary = join(dirname(destinationPath), `.${basename(destinationPath)}.${randomBytes(6).toString("hex")}.partial`);
  closeSync(openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
  try {
    const source = new Database(sourcePath, { readonly: true, fileMustExist: true });
    let pages = 0;
    try {
      source.pragma("busy_timeout = 5000");
      const r = await source.backup(temporary, {
        progress: ({ totalPages }) => {
          pages = totalPages;
          return totalPages;
        },
      });
      pages = r.totalPages;
    } finally {
      source.close();
    }
    const copy = new SqliteEventStore({ path: temporary, readonly: true });
    let chain: BackupReport["chain"];
    try {
      chain = copy.verify();
    } finally {
      await copy.close();
    }
    // Checked again just before the copy takes the name: the destination may have changed meanwhile.
    if (checkDestination(sourcePath, destinationPath) && !opts.overwrite) throw new Error(`${destinationPath} exists; choose another file (or pass --force)`);
    if (opts.overwrite) renameSync(temporary, destinationPath);
    else {
      // link() fails if the name exists, so a file that appeared meanwhile is never replaced.
      linkSync(temporary, destinationPath);
      rmSync(temporary);
    }
    return { source: sourcePath, destination: destinationPath, pages, chain };
  } finally {
    // The read-only check of the copy leaves an empty WAL and its shared memory beside it.
    for (const part of ["", "-wal", "-shm"]) rmSync(temporary + part, { force: true });
  }
}
