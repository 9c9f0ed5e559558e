// The SQLite adapter passes the storage and transparency conformance suites: on a file with its writer
// thread, on a file with writes in-process, and in memory (where writes are always in-process).
import { join } from "node:path";
import { SqliteStorage, type SqliteWriterMode } from "../../../src/storage/sqlite/sqlite-storage.js";
import type { StoragePort } from "../../../src/storage/storage-port.js";

import { storageConformance } from "./features.js";
import { transparencyConformance } from "./transparency-features.js";
import { tempDir } from "../../support/common.js";
import { commandProgram } from "../../../src/application/handle-command.js";

const storedKey = async (storage: StoragePort, subjectId: string) => (storage as SqliteStorage).internals.vault.storedKey(subjectId);

const sql = async (storage: StoragePort, statement: string) => void (storage as SqliteStorage).internals.store.db.exec(statement);

for (const writer of ["thread", "in-process"] as const satisfies readonly SqliteWriterMode[]) {
  storageConformance(`SQLite file, ${writer} writer`, async ({ evidenceKek }) => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, "ledger.db");
    const storage = await SqliteStorage.open({ commands: commandProgram, path, writer, evidenceKek });
    return { storage, reopen: (o) => SqliteStorage.open({ commands: commandProgram, path, writer, evidenceKek: o.evidenceKek }), storedKey, sql, cleanup };
  });

  transparencyConformance(`SQLite file, ${writer} writer`, async () => {
    const { dir, cleanup } = tempDir();
    const path = join(dir, "ledger.db");
    return { storage: await SqliteStorage.open({ commands: commandProgram, path, writer }), reopen: () => SqliteStorage.open({ commands: commandProgram, path, writer }), cleanup };
  });
}

storageConformance("SQLite :memory:", async ({ evidenceKek }) => ({
  storage: await SqliteStorage.open({ commands: commandProgram, path: ":memory:", evidenceKek }),
  reopen: null,
  storedKey,
  sql,
  cleanup: () => undefined,
}));
