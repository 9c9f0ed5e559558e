// The latest checkpoint's note, also kept in a file beside the database: a database restored from an
// older backup carries its own older checkpoint, and only a copy outside it shows what was given out since.
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";

export interface CheckpointMirror {
  /** The last note written; null when there is none yet. */
  read(): Promise<string | null>;
  /** Replaces the note, atomically and durably. */
  write(note: string): Promise<void>;
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
