// The PostgreSQL adapter passes the storage and transparency conformance suites, on a fresh database of the run's test server.
import { PostgresStorage } from "../../../src/storage/postgres/postgres-storage.js";
import type { StoragePort } from "../../../src/storage/storage-port.js";
import { freshDatabase } from "../../support/postgres.js";
import { storageConformance } from "./features.js";
import { transparencyConformance } from "./transparency-features.js";
import { commandProgram } from "../../../src/application/handle-command.js";

const storedKey = async (storage: StoragePort, subjectId: string) =>
  (await (storage as PostgresStorage).store.read<{ key: Buffer }>("SELECT key FROM subject_keys WHERE subject_id = $1", [subjectId])).rows[0]?.key ?? null;

const sql = async (storage: StoragePort, statement: string) => void (await (storage as PostgresStorage).store.read(statement));

storageConformance("PostgreSQL", async ({ evidenceKek }) => {
  const url = await freshDatabase("conformance");
  return { storage: await PostgresStorage.open({ commands: commandProgram, url, evidenceKek }), reopen: (o) => PostgresStorage.open({ commands: commandProgram, url, evidenceKek: o.evidenceKek }), storedKey, sql, cleanup: () => undefined };
});

transparencyConformance("PostgreSQL", async () => {
  const url = await freshDatabase("tlog");
  return { storage: await PostgresStorage.open({ commands: commandProgram, url }), reopen: () => PostgresStorage.open({ commands: commandProgram, url }), cleanup: () => undefined };
});
