// The migration that keeps each data request's total of extended days finds it, on a ledger written
// before it, from the extensions the log already holds: the cap still counts them after the upgrade.
import Database from "better-sqlite3";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OFFICER, TestClock, ledgerWithCatalog, newLedger, subjectActor } from "../../support/ledger-commands.js";
import { tempDir } from "../../support/common.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("the extended-days migration on a ledger written before it", () => {
  it("sums each request's earlier extensions, so the total cap holds across the upgrade", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, "ledger.db");
    const clock = new TestClock();
    const { ledger } = await ledgerWithCatalog(clock, path);
    const r = await ledger.openDataRequest("alice", { kind: "DISCLOSURE", note: null }, subjectActor("alice"));
    const other = await ledger.openDataRequest("bob", { kind: "DISCLOSURE", note: null }, subjectActor("bob"));
    await ledger.extendDataRequest(r.id, 30, "records to gather", OFFICER);
    await ledger.extendDataRequest(r.id, 15, "records to gather", OFFICER);
    await ledger.close();

    // As a build before the migration left the database: no column, the migration not yet applied.
    const db = new Database(path);
    const applied = db.prepare("SELECT MAX(version) FROM schema_migrations").pluck().get() as number;
    db.exec("ALTER TABLE data_requests DROP COLUMN extended_days");
    db.prepare("DELETE FROM schema_migrations WHERE version = ?").run(applied);
    db.close();

    const again = await newLedger(clock, path);
    cleanups.push(() => again.close());
    expect((await again.dataRequest(r.id)).extendedDays).toBe(45);
    expect((await again.dataRequest(other.id)).extendedDays).toBe(0);
    await expect(again.extendDataRequest(r.id, 16, "more", OFFICER)).rejects.toMatchObject({ code: "BAD_USER_INPUT" });
    expect((await again.extendDataRequest(r.id, 15, "more", OFFICER)).extendedDays).toBe(60);
  });
});
