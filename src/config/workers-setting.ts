// WORKERS: how many request-serving processes share the service's port (docs/workers.md).
import { availableParallelism } from "node:os";
import type { Config } from "./types.js";
import { ConfigError } from "./settings.js";

/** More would only multiply connections and memory on any machine this runs on. */
export const MAX_WORKERS = 256;

/** WORKERS: a whole number from 1 to MAX_WORKERS, or `auto` (the number of cores); default 1. */
export function workersSetting(raw: string | undefined, database: Config["database"], cores: () => number = availableParallelism): number {
  if (raw === undefined) return 1;
  const text = raw.trim();
  const n = text === "auto" ? Math.min(Math.max(cores(), 1), MAX_WORKERS) : /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_WORKERS) throw new ConfigError(`WORKERS must be a whole number from 1 to ${MAX_WORKERS}, or "auto" (the number of cores), got "${raw}"`);
  if (n > 1 && database.kind === "sqlite" && (database.path === ":memory:" || database.path === ""))
    throw new ConfigError(`WORKERS=${raw} needs a database every process can open: an in-memory SQLite database belongs to one process (use a file or PostgreSQL)`);
  if (n > 1 && database.kind === "sqlite" && database.writer === "in-process")
    throw new ConfigError(`WORKERS=${raw} needs the SQLite writer thread: SQLITE_WRITER=in-process writes on the serving thread, which a worker process does not own`);
  return n;
}
