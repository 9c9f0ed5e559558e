// The SQLite adapter passes the storage conformance suite, on a file and in memory.
import { join } from "node:path";
import { SqliteStorage } from "../../../src/storage/sqlite/sqlite-storage.js";
import { tempDir } from "../../support/ledger-commands.js";
import { storageConformance } from "./features.js";

storageConformance("SQLite file", async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, "ledger.db");
  return { storage: await SqliteStorage.open({ path }), reopen: () => SqliteStorage.open({ path }), cleanup };
});

storageConformance("SQLite :memory:", async () => ({ storage: await SqliteStorage.open({ path: ":memory:" }), reopen: null, cleanup: () => undefined }));
