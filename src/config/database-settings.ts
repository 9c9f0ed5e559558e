// Where the ledger is kept: DATABASE_URL (SQLite or PostgreSQL), SQLite's writer, and the two ends of
// migrate-sqlite-to-postgres.
import { existsSync, statSync } from "node:fs";
import { ConfigError } from "./settings.js";
import type { Config } from "./types.js";

/** `sqlite:<path>`, `sqlite::memory:` (also `sqlite://<path>`), or `postgres://user:pass@host:port/db` (also `postgresql://`). */
export function parseDatabaseUrl(url: string): Config["database"] {
  if (/^postgres(ql)?:/i.test(url)) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConfigError("DATABASE_URL is not a valid postgres:// URL (postgres://user:pass@host:port/db)");
    }
    if (u.hostname === "" && !u.searchParams.has("host")) throw new ConfigError("DATABASE_URL names no PostgreSQL host (postgres://user:pass@host:port/db)");
    if (u.pathname === "" || u.pathname === "/") throw new ConfigError("DATABASE_URL names no PostgreSQL database (postgres://user:pass@host:port/db)");
    return { kind: "postgres", url };
  }
  const m = /^sqlite:(.*)$/i.exec(url);
  if (!m) throw new ConfigError("DATABASE_URL must be sqlite:<path>, sqlite::memory: or postgres://user:pass@host:port/db");
  let path = m[1]!;
  if (path.startsWith("//")) path = path.slice(2); // sqlite:///abs/path and sqlite://rel/path
  if (path === "") throw new ConfigError("DATABASE_URL names no database file");
  return { kind: "sqlite", path: path === ":memory:" ? ":memory:" : path };
}

/** SQLITE_WRITER: "thread" (group commit and fsync off the event loop; the default for a file) or "in-process". */
export function withSqliteWriter(database: Config["database"], raw: string | undefined): Config["database"] {
  if (raw === undefined) return database;
  if (raw !== "thread" && raw !== "in-process") throw new ConfigError(`SQLITE_WRITER must be "thread" or "in-process", got "${raw}"`);
  if (database.kind !== "sqlite") throw new ConfigError("SQLITE_WRITER applies to a sqlite: DATABASE_URL only");
  return { ...database, writer: raw };
}

export const MIGRATE_USAGE = "usage: migrate-sqlite-to-postgres --from <sqlite file, or sqlite:<path>> --to postgres://user:pass@host:port/db";

/**
 * The source file and the target URL. `--from` takes a SQLite URL (`sqlite:data/ledger.db`) or,
 * as every other command does, a plain path (`data/ledger.db`); it must name an existing file.
 */
/** migrate-sqlite-to-postgres's `--from` and `--to`. */
export function migrationEndpoints(from: string | undefined, to: string | undefined): { sqlitePath: string; postgresUrl: string } {
  if (!from || !to) throw new Error(MIGRATE_USAGE);
  if (/^postgres(ql)?:/i.test(from)) throw new Error("--from is the SQLite ledger to copy (a file path or sqlite:<path>); --to is the postgres:// URL");
  const source = /^sqlite:/i.test(from) ? parseDatabaseUrl(from) : { kind: "sqlite" as const, path: from };
  if (source.kind !== "sqlite" || source.path === ":memory:") throw new Error("--from must name a SQLite file: a path, or sqlite:<path>");
  if (!existsSync(source.path) || !statSync(source.path).isFile()) throw new Error(`--from: there is no SQLite file at ${source.path}`);
  if (!/^postgres(ql)?:/i.test(to)) throw new Error("--to must be a postgres:// URL (postgres://user:pass@host:port/db)");
  const target = parseDatabaseUrl(to);
  if (target.kind !== "postgres") throw new Error("--to must be a postgres:// URL");
  return { sqlitePath: source.path, postgresUrl: target.url };
}

/** POSTGRES_BATCHES: "set-based" (a group commit's commands in lockstep, the default) or "savepoints" (one after another, each in its savepoint). */
export function withPostgresBatches(database: Config["database"], raw: string | undefined): Config["database"] {
  if (raw === undefined) return database;
  if (raw !== "set-based" && raw !== "savepoints") throw new ConfigError(`POSTGRES_BATCHES must be "set-based" or "savepoints", got "${raw}"`);
  if (database.kind !== "postgres") throw new ConfigError("POSTGRES_BATCHES applies to a postgres: DATABASE_URL only");
  return { ...database, batches: raw };
}
