// The data folder holds the database and (in dev mode) the keys: the owner's alone.
import { chmodSync, mkdirSync, statSync } from "node:fs";
import type { Logger } from "pino";

/**
 * Creates `dir` with mode 0700, or tightens an existing folder that others may read or enter
 * (0755, say) to 0700, saying so in the log. A folder this process does not own is left as it is,
 * with a warning: only its owner can change its mode.
 */
export function secureDataDir(dir: string, logger: Pick<Logger, "info" | "warn">): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) === 0) return;
  const was = mode.toString(8).padStart(4, "0");
  try {
    chmodSync(dir, mode & 0o700);
    logger.info({ dataDir: dir, mode: was }, `tightened the data folder ${dir} from ${was} to 0700: it holds the database and keys`);
  } catch (e) {
    logger.warn({ dataDir: dir, mode: was, err: e }, `the data folder ${dir} is ${was} and could not be tightened to 0700: others may read the database and keys`);
  }
}
