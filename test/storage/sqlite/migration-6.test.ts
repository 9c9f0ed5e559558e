// Migration 6 upgrades a ledger written before it: the due expiries and version effects are found
// from what the log already holds, and the new lifecycle and request columns read as their defaults.
import Database from "better-sqlite3";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DAY_MS } from "../../../src/domain/time.js";
import { SCHEMA_VERSION_LATEST } from "../../../src/storage/sqlite/schema.js";
import { expectDueChangesRecordedOnce, seedDueChanges } from "../../support/due-changes-upgrade.js";
import { TestClock, ledgerWithCatalog, newLedger } from "../../support/ledger-commands.js";
import { tempDir } from "../../support/common.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Takes a database back to the schema before migration 6, as a build before it left it. */
function asBeforeMigration6(path: string): void {
  const db = new Database(path);
  db.exec(`
    DROP INDEX consents_due;
    DROP TABLE expiry_notes;
    DROP TABLE version_effects;
    DROP TABLE transfers;
    ALTER TABLE subjects DROP COLUMN suspended_purposes;
    ALTER TABLE subjects DROP COLUMN returned_at;
    ALTER TABLE subjects DROP COLUMN merged_into;
    ALTER TABLE status_history DROP COLUMN suspended_purposes;
    ALTER TABLE status_history DROP COLUMN returned_at;
    ALTER TABLE status_history DROP COLUMN merged_into;
    ALTER TABLE data_requests DROP COLUMN purpose_ids;
    ALTER TABLE data_requests DROP COLUMN closing_note;
    ALTER TABLE data_requests DROP COLUMN identity_label;
    ALTER TABLE data_requests DROP COLUMN extended_days;
    ALTER TABLE consents DROP COLUMN expiry_noted;
    -- The migrations after 6 are undone too: a build before 6 had none of them.
    DROP TABLE IF EXISTS webhook_deliveries;
    DROP TABLE IF EXISTS webhooks;
    DELETE FROM schema_migrations WHERE version >= 6;
  `);
  db.close();
}

describe("migration 6 on a ledger written before it", () => {
  it("finds the grants past their expiry and the versions yet to take effect, and records each once", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, "ledger.db");
    const clock = new TestClock();
    const { ledger } = await ledgerWithCatalog(clock, path);
    const seed = await seedDueChanges(ledger, clock);
    await ledger.close();
    asBeforeMigration6(path);

    clock.advance(3 * DAY_MS);
    const again = await newLedger(clock, path);
    cleanups.push(() => again.close());
    const db = new Database(path, { readonly: true });
    cleanups.push(() => db.close());
    expect(db.prepare("SELECT MAX(version) FROM schema_migrations").pluck().get()).toBe(SCHEMA_VERSION_LATEST);
    await expectDueChangesRecordedOnce(again, seed);
  });
});
