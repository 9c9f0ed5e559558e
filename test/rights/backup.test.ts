// The online backup: taken while the ledger writes, it is a consistent snapshot that verifies, restores and serves.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { backupDatabase } from "../../src/storage/sqlite/backup.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { RECORD, tokens } from "./support.js";
import { verifyFile } from "../support/ledger-commands.js";
import { makeTempDir } from "../support/common.js";

const restoredDirs: string[] = [];
afterAll(() => {
  for (const d of restoredDirs) rmSync(d, { recursive: true, force: true });
});

describe("backupDatabase", () => {
  it("copies a running, writing ledger into a file that verifies, restores and serves", async () => {
    const srv: TestServer = await startTestServer();
    const token = tokens(srv);
    const dbPath = join(srv.dataDir, "ledger.db");
    // The evidence key-encryption key is backed up apart from the database, and restored with it.
    const kek = readFileSync(join(srv.dataDir, "keys", "evidence.kek"));
    const backupDir = makeTempDir("ledger-backup-");
    restoredDirs.push(backupDir);
    const file = join(backupDir, "backup.db");
    let writes = 0;
    let stop = false;
    try {
      // Writers keep committing (each its own group commit) while the backup runs from a second connection.
      let tenWritten!: () => void;
      const tenDone = new Promise<void>((r) => (tenWritten = r));
      const writer = (async () => {
        for (let i = 0; !stop || i < 20; i++) {
          const s = `w${i % 50}`;
          const r = await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: i % 2 ? ["location"] : [], withdraw: i % 2 ? [] : ["location"], evidence: { ipAddress: "192.0.2.3" } } }, await token(s, "consent:self"));
          expect(r.errors).toBeUndefined();
          if (++writes === 10) tenWritten();
        }
      })();
      await Promise.race([tenDone, writer]); // the backup starts while writes keep coming (a failed write ends the wait)
      const report = await backupDatabase(dbPath, file);
      stop = true;
      await writer;
      expect(report.chain.ok).toBe(true);
      expect(report.chain.eventCount).toBeGreaterThan(10);
      expect(report.pages).toBeGreaterThan(0);
      // A second backup to the same file is refused unless forced.
      await expect(backupDatabase(dbPath, file)).rejects.toThrow(/exists/);

      const offline = await verifyFile(file);
      expect(offline.ok).toBe(true);
      expect(offline.chain.eventCount).toBe(report.chain.eventCount);
      // The live ledger went on; the backup is a prefix of it.
      const live = srv.app.services.ledger;
      expect((await live.integrity()).eventCount).toBeGreaterThan(report.chain.eventCount);
      const atBackup = (await live.events(report.chain.head!.position - 1, 1))[0]!;
      expect(atBackup.hash).toBe(report.chain.head!.hash);
    } finally {
      stop = true;
      await srv.close().catch(() => undefined);
    }

    // Restore: the backup file becomes the database of a fresh data folder.
    const dataDir = makeTempDir("ledger-restore-");
    restoredDirs.push(dataDir);
    copyFileSync(file, join(dataDir, "ledger.db"));
    mkdirSync(join(dataDir, "keys"), { mode: 0o700 });
    writeFileSync(join(dataDir, "keys", "evidence.kek"), kek, { mode: 0o600 });
    expect(existsSync(join(dataDir, "ledger.db-wal"))).toBe(false);
    const restored = await startTestServer({ dataDir });
    try {
      const t = tokens(restored);
      const integrity = await restored.gql<{ ledgerIntegrity: { ok: boolean; eventCount: number } }>(`query { ledgerIntegrity { ok eventCount } }`, {}, await t("auditor", "ledger:read"));
      expect(integrity.data!.ledgerIntegrity.ok).toBe(true);
      const me = await restored.gql<{ me: { status: string; version: number } }>(`query { me { status version } }`, {}, await t("w1", "consent:self"));
      expect(me.data!.me.version).toBeGreaterThan(0);
      // It serves writes too, continuing the chain.
      expect((await restored.gql(RECORD, { input: { policyVersion: 1, grant: ["location"] } }, await t("w1", "consent:self"))).errors).toBeUndefined();
      const after = await restored.gql<{ ledgerIntegrity: { ok: boolean; eventCount: number } }>(`query { ledgerIntegrity { ok eventCount } }`, {}, await t("auditor", "ledger:read"));
      expect(after.data!.ledgerIntegrity).toEqual({ ok: true, eventCount: integrity.data!.ledgerIntegrity.eventCount + 1 });
    } finally {
      await restored.close();
    }
  });

  it("refuses an in-memory or missing database", async () => {
    await expect(backupDatabase(":memory:", "/tmp/never.db")).rejects.toThrow(/in-memory/);
    await expect(backupDatabase("/nonexistent/ledger.db", "/tmp/never.db")).rejects.toThrow(/no database/);
  });
});
