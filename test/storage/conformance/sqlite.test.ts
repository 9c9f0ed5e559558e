// The SQLite adapter passes the storage conformance suite, on a file and in memory.
import { join } from "node:path";
import { SqliteStorage } from "../../../src/storage/sqlite/sqlite-storage.js";
import type { StoragePort } from "../../../src/storage/storage-port.js";
import { tempDir } from "../../support/ledger-commands.js";
import { storageConformance } from "./features.js";
import { transparencyConformance } from "./transparency-features.js";

const storedKey = async (storage: StoragePort, subjectId: string) => (storage as SqliteStorage).internals.vault.storedKey(subjectId);

const sql = async (storage: StoragePort, statement: string) => void (storage as SqliteStorage).internals.store.db.exec(statement);

storageConformance("SQLite file", async ({ evidenceKek }) => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, "ledger.db");
  return { storage: await SqliteStorage.open({ path, evidenceKek }), reopen: (o) => SqliteStorage.open({ path, evidenceKek: o.evidenceKek }), storedKey, sql, cleanup };
});

storageConformance("SQLite :memory:", async ({ evidenceKek }) => ({
  storage: await SqliteStorage.open({ path: ":memory:", evidenceKek }),
  reopen: null,
  storedKey,
  sql,
  cleanup: () => undefined,
}));

transparencyConformance("SQLite file", async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, "ledger.db");
  return { storage: await SqliteStorage.open({ path }), reopen: () => SqliteStorage.open({ path }), cleanup };
});
