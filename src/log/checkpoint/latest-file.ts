// The latest checkpoint's note, also kept in a file beside the database: a database restored from an
// older backup carries its own older checkpoint, and only a copy outside it shows what was given out since.
//
// One file per ledger, named by the ledger's first leaf hash (a restored copy of a ledger has the same
// first event, another database has another one), so ledgers that share a data folder — SQLite tried
// before PostgreSQL, a test database beside the real one — never read each other's checkpoints.
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";

export interface CheckpointMirror {
  /** The last note written; null when there is none yet. */
  read(): Promise<string | null>;
  /** Replaces the note, atomically and durably. */
  write(note: string): Promise<void>;
}

/** Where a data folder keeps the copies: one mirror per ledger, and the single file older versions wrote. */
export interface CheckpointMirrors {
  /** The mirror of the ledger whose first leaf hash is `ledgerId` (hex). */
  forLedger(ledgerId: string): CheckpointMirror;
  /** The file kept before mirrors were per ledger: read once, trusted only when it fits the ledger. */
  legacy?: CheckpointMirror;
}

/** The folder under DATA_DIR holding the copies. */
export const mirrorFolder = (dataDir: string): string => join(dataDir, "transparency");

/** The file holding the copy for one ledger. */
export const mirrorPath = (dataDir: string, ledgerId: string): string => join(mirrorFolder(dataDir), `ledger-${ledgerId}.checkpoint`);

/** The per-ledger files under a data folder. */
export function checkpointMirrors(dataDir: string): CheckpointMirrors {
  return {
    forLedger: (ledgerId) => checkpointFile(mirrorPath(dataDir, ledgerId)),
    legacy: checkpointFile(join(mirrorFolder(dataDir), "latest-checkpoint")),
  };
}

/** A mirror in one file, replaced by write-to-temporary, fsync, rename. */
export function checkpointFile(path: string): CheckpointMirror {
  return {
    async read() {
      try {
        return await readFile(path, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
    },
    async write(note) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
      const f = await open(tmp, "w", 0o644);
      try {
        await f.writeFile(note, "utf8");
        await f.sync();
      } finally {
        await f.close();
      }
      try {
        await rename(tmp, path);
      } catch (e) {
        await unlink(tmp).catch(() => undefined);
        throw e;
      }
    },
  };
}
