// The PostgreSQL adapter passes the storage conformance suite, on a fresh database of the run's test server.
import { PostgresStorage } from "../../../src/storage/postgres/postgres-storage.js";
import { freshDatabase } from "../../support/postgres.js";
import { storageConformance } from "./features.js";

storageConformance("PostgreSQL", async () => {
  const url = await freshDatabase("conformance");
  return { storage: await PostgresStorage.open({ url }), reopen: () => PostgresStorage.open({ url }), cleanup: () => undefined };
});
