// The ledger file's permissions.
import { chmodSync, closeSync, existsSync, openSync, statSync } from "node:fs";

/**
 * The database holds the log and the (wrapped) subject keys: owner-only (0600). A new file is
 * created 0600 before SQLite opens it, and SQLite gives its -wal and -shm files the database
 * file's mode; files an older build created more open are tightened.
 */
export function restrictFileModes(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if ((statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
}
