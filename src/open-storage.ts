// The one place that turns DATABASE_URL into a storage adapter; app.ts and cli.ts open storage only here.
import { commandProgram } from "./application/handle-command.js";
import type { Config } from "./config.js";
import { PostgresStorage } from "./storage/postgres/postgres-storage.js";
import { SqliteStorage } from "./storage/sqlite/sqlite-storage.js";
import type { SqliteWrites } from "./storage/sqlite/sqlite-writer.js";

// What the worker processes (src/workers/) need of the SQLite adapter: its writes, relayed between processes.
export type { SqliteWrites } from "./storage/sqlite/sqlite-writer.js";
export type { WriterReply, WriterRequest } from "./storage/sqlite/writer-protocol.js";
export { ProcessWriter } from "./storage/sqlite/process-writer.js";
export { runWriterRequest } from "./storage/sqlite/writer-relay.js";
import type { StoragePort } from "./storage/storage-port.js";

export interface OpenStorageOptions {
  /** Offline tools (export, verify): no migrations, no writes. */
  readonly?: boolean;
  /** The key-encryption key subject keys are wrapped under (EVIDENCE_KEK_FILE); tools that open no evidence leave it out. */
  evidenceKek?: Uint8Array | null;
  /** VIEW_CACHE_MB in bytes (the service's storage only): 0 or absent keeps no view in memory. */
  viewCacheBytes?: number;
  /** VIEW_CACHE_MAX_LAG_MS (PostgreSQL): the view's bound on the change feed's lag; 0 or absent keeps no view there. */
  viewMaxLagMs?: number;
  /** SQLite: writes go to this writer (another process's) instead of a writer thread of this process's own. */
  sqliteWrites?: SqliteWrites;
}

/** The adapter `database` names, opened (and migrated, unless read-only). */
export function openStorage(database: Config["database"], opts: OpenStorageOptions = {}): Promise<StoragePort> {
  switch (database.kind) {
    case "sqlite":
      return SqliteStorage.open({
        path: database.path,
        evidenceKek: opts.evidenceKek ?? null,
        commands: commandProgram,
        ...(database.writer ? { writer: database.writer } : {}),
        ...(opts.readonly ? { readonly: true } : {}),
        ...(opts.viewCacheBytes ? { viewCacheBytes: opts.viewCacheBytes } : {}),
        ...(opts.sqliteWrites ? { writes: opts.sqliteWrites } : {}),
      });
    // A PostgreSQL ledger is shared by replicas that are running: offline tools read it like any other client.
    case "postgres":
      return PostgresStorage.open({
        url: database.url,
        evidenceKek: opts.evidenceKek ?? null,
        commands: commandProgram,
        ...(database.batches ? { setBasedBatches: database.batches === "set-based" } : {}),
        ...(opts.viewCacheBytes && opts.viewMaxLagMs ? { viewCacheBytes: opts.viewCacheBytes, viewMaxLagMs: opts.viewMaxLagMs } : {}),
      });
  }
}

/** The SQLite writer of `storage`, which worker processes relay their writes to; none on PostgreSQL. */
export function sqliteWriterOf(storage: StoragePort): SqliteWrites | null {
  return storage instanceof SqliteStorage ? storage.internals.writer : null;
}
