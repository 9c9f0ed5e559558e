// A secret kept in a 0600 file of its own: read back on every start, written once, atomically.
import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** The file's text; undefined when the file does not exist; an Error naming `what` and the file when it cannot be read. */
export async function readKeyFile(path: string, what: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/**
 * Writes `text` to `path` (0600, in a 0700 folder) unless a file is there already; true when this
 * call wrote it. The text goes under a temporary name first and is hard-linked into place, so two
 * processes starting together never see a half-written key and both end up using the same one.
 */
export async function writeKeyFileOnce(path: string, text: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(tmp, text, { mode: 0o600, flag: "wx" });
  // writeFile's mode is masked by the umask; make sure nobody else can read a secret.
  await chmod(tmp, 0o600);
  try {
    await link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return false;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
