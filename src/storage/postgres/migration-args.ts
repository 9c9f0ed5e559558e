// What `migrate-sqlite-to-postgres` reads from its arguments, and the progress line it prints while copying.
import { existsSync, statSync } from "node:fs";
import { parseDatabaseUrl } from "../../config.js";

export const MIGRATE_USAGE = "usage: migrate-sqlite-to-postgres --from <sqlite file, or sqlite:<path>> --to postgres://user:pass@host:port/db";

/**
 * The source file and the target URL. `--from` takes a SQLite URL (`sqlite:data/ledger.db`) or,
 * as every other command does, a plain path (`data/ledger.db`); it must name an existing file.
 */
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

export interface CopyProgress {
  copied: number;
  total: number;
  elapsedMs: number;
}

const seconds = (s: number): string => (s < 90 ? `${Math.ceil(s)} s` : `${Math.ceil(s / 60)} min`);

/** "copied 12,000 of 100,000 events (12%), 8,400 events/s, about 11 s left". */
export function formatCopyProgress({ copied, total, elapsedMs }: CopyProgress): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const pct = total === 0 ? 100 : Math.floor((copied / total) * 100);
  const rate = elapsedMs > 0 ? (copied * 1000) / elapsedMs : 0;
  const left = copied >= total ? "done" : rate > 0 ? `about ${seconds((total - copied) / rate)} left` : "estimating the time left";
  return `copied ${n(copied)} of ${n(total)} events (${pct}%), ${n(Math.round(rate))} events/s, ${left}`;
}
