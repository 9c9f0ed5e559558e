// Migration 4 upgrades a PostgreSQL ledger written before it: the due expiries and version effects
// are found from what the log already holds, and the new columns read as their defaults.
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { publishCatalogDir } from "../../../src/catalog-dir.js";
import { Ledger } from "../../../src/ledger.js";
import { PostgresStorage } from "../../../src/storage/postgres/postgres-storage.js";
import { DAY_MS } from "../../../src/domain/time.js";
import { expectDueChangesRecordedOnce, seedDueChanges } from "../../support/due-changes-upgrade.js";
import { TestClock } from "../../support/ledger-commands.js";
import { freshDatabase } from "../../support/postgres.js";
import { commandProgram } from "../../../src/application/handle-command.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Takes a database back to the schema before migration 4, as a build before it left it. */
async function asBeforeMigration4(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      DROP INDEX consents_due;
      DROP INDEX standings_by_policy_subject;
      DROP TABLE expiry_notes;
      DROP TABLE version_effects;
      DROP TABLE transfers;
      ALTER TABLE subjects DROP COLUMN suspended_purposes, DROP COLUMN returned_at, DROP COLUMN merged_into;
      ALTER TABLE status_history DROP COLUMN suspended_purposes, DROP COLUMN returned_at, DROP COLUMN merged_into;
      ALTER TABLE data_requests DROP COLUMN purpose_ids, DROP COLUMN closing_note, DROP COLUMN identity_label, DROP COLUMN extended_days;
      ALTER TABLE consents DROP COLUMN expiry_noted;
      -- The migrations after 4 are undone too: a build before 4 had none of them.
      DROP TABLE IF EXISTS webhook_leases;
      DROP TABLE IF EXISTS webhook_deliveries;
      DROP TABLE IF EXISTS webhooks;
      DELETE FROM schema_migrations WHERE version >= 4;
    `);
  } finally {
    await client.end();
  }
}

describe("migration 4 on a PostgreSQL ledger written before it", () => {
  it("finds the grants past their expiry and the versions yet to take effect, and records each once", async () => {
    const url = await freshDatabase("migration4");
    const clock = new TestClock();
    const ledger = await Ledger.open(await PostgresStorage.open({ commands: commandProgram, url }), { clock: clock.now });
    await publishCatalogDir(ledger, "data/policies");
    const seed = await seedDueChanges(ledger, clock);
    await ledger.close();
    await asBeforeMigration4(url);

    clock.advance(3 * DAY_MS);
    const again = await Ledger.open(await PostgresStorage.open({ commands: commandProgram, url }), { clock: clock.now });
    cleanups.push(() => again.close());
    await expectDueChangesRecordedOnce(again, seed);
  });
});
