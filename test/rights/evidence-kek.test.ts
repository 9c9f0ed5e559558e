// Finding 5: subject keys wrapped under a key-encryption key kept apart from the database; owner-only files.
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { readKekFile } from "../../src/keys/evidence-kek.js";
import { unwrapKey } from "../../src/evidence/key-wrap.js";
import { Ledger } from "../../src/ledger.js";
import { backupDatabase } from "../../src/storage/sqlite/backup.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { HISTORY, RECORD, contains, databaseBytes } from "./support.js";
import { makeTempDir } from "../support/common.js";

const dirs: string[] = [];
const tempDir = () => {
  const d = makeTempDir("ledger-kek-");
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const IP = "198.51.100.23";
const mode = (path: string) => statSync(path).mode & 0o777;

async function recordWithEvidence(srv: TestServer, subject: string): Promise<void> {
  const r = await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"], evidence: { ipAddress: IP, userAgent: "Tester/1.0" } } }, await srv.token(subject, "consent:self"));
  expect(r.errors).toBeUndefined();
}

async function evidenceOf(srv: TestServer, subject: string): Promise<unknown> {
  const r = await srv.gql<{ subject: { history: { edges: { node: { data: { evidence?: unknown } } }[] } } }>(HISTORY, { s: subject }, await srv.token("auditor", "ledger:read"));
  expect(r.errors).toBeUndefined();
  return r.data!.subject.history.edges[0]!.node.data.evidence;
}

describe("finding 5: a stolen database file or backup alone reveals no evidence", () => {
  it("stores subject keys only wrapped; without the KEK neither the file nor a backup opens the evidence", async () => {
    const srv = await startTestServer({ dataDir: tempDir() });
    const db = join(srv.dataDir, "ledger.db");
    try {
      await recordWithEvidence(srv, "alice");
      expect(await evidenceOf(srv, "alice")).toMatchObject({ ipAddress: IP });
      const kek = (await readKekFile(join(srv.dataDir, "keys", "evidence.kek")))!;

      // What a reader of the file sees: a 61-byte wrapped blob, never the 32-byte key it wraps.
      const raw = new Database(db, { readonly: true });
      const row = raw.prepare("SELECT key FROM subject_keys WHERE subject_id = 'alice'").pluck().get() as Buffer;
      const sealed = raw.prepare("SELECT data FROM events WHERE subject_id = 'alice' ORDER BY position LIMIT 1").pluck().get() as string;
      raw.close();
      expect(row.length).toBe(61);
      const subjectKey = unwrapKey(kek, "alice", row);
      expect(subjectKey.length).toBe(32);
      expect(contains(databaseBytes(db), subjectKey)).toBe(false);
      expect(contains(databaseBytes(db), IP)).toBe(false);
      expect(sealed).not.toContain(IP);

      // A backup is the same: wrapped keys only, and owner-only.
      const copy = join(tempDir(), "copy.db");
      await backupDatabase(db, copy);
      expect(mode(copy)).toBe(0o600);
      expect(contains(readFileSync(copy), subjectKey)).toBe(false);

      // Opening the copy without the KEK cannot unseal; with it, it can.
      const thief = await Ledger.open(await SqliteStorage.open({ path: copy, readonly: true }));
      try {
        const [e] = await thief.history("alice", 0, 1);
        await expect(thief.reveal(e!)).rejects.toThrow(/key-encryption key/);
      } finally {
        await thief.close();
      }
      const officer = await Ledger.open(await SqliteStorage.open({ path: copy, readonly: true, evidenceKek: kek }));
      try {
        const [e] = await officer.history("alice", 0, 1);
        expect((await officer.reveal(e!))["evidence"]).toMatchObject({ ipAddress: IP });
      } finally {
        await officer.close();
      }
      // The KEK is not in the data it protects.
      expect(contains(databaseBytes(db), kek)).toBe(false);
    } finally {
      await srv.close();
    }
  });

  it("creates the database, its WAL and SHM 0600 and the keys folder 0700", async () => {
    const dataDir = join(tempDir(), "fresh");
    const srv = await startTestServer({ dataDir });
    try {
      await recordWithEvidence(srv, "bo");
      const db = join(dataDir, "ledger.db");
      for (const f of [db, `${db}-wal`, `${db}-shm`, join(dataDir, "keys", "evidence.kek")]) expect(mode(f), f).toBe(0o600);
      expect(mode(join(dataDir, "keys"))).toBe(0o700);
      expect(mode(dataDir)).toBe(0o700);
    } finally {
      await srv.close();
    }
  });

  it("wraps the plain keys of an existing database at start, losing nothing, and erasure still destroys the key", async () => {
    const dataDir = tempDir();
    const db = join(dataDir, "ledger.db");
    const srv = await startTestServer({ dataDir });
    try {
      await recordWithEvidence(srv, "carol");
    } finally {
      await srv.close();
    }
    // Turn carol's key back into a plain key, as an older build stored it.
    const kek = (await readKekFile(join(dataDir, "keys", "evidence.kek")))!;
    const raw = new Database(db);
    const wrapped = raw.prepare("SELECT key FROM subject_keys WHERE subject_id = 'carol'").pluck().get() as Buffer;
    raw.prepare("UPDATE subject_keys SET key = ? WHERE subject_id = 'carol'").run(unwrapKey(kek, "carol", wrapped));
    raw.close();
    chmodSync(db, 0o644);

    const again = await startTestServer({ dataDir });
    try {
      const reader = new Database(db, { readonly: true });
      const stored = reader.prepare("SELECT key FROM subject_keys WHERE subject_id = 'carol'").pluck().get() as Buffer;
      reader.close();
      expect(stored.length).toBe(61);
      expect(mode(db)).toBe(0o600);
      expect(await evidenceOf(again, "carol")).toMatchObject({ ipAddress: IP });

      const erased = await again.gql(`mutation { eraseSubject(subjectId: "carol") { status } }`, {}, await again.token("officer", "subject:admin"));
      expect(erased.errors).toBeUndefined();
      expect(await again.app.services.ledger.storage.evidenceKey("carol")).toBeNull();
      expect(await evidenceOf(again, "carol")).toEqual({ erased: true });
    } finally {
      await again.close();
    }
  });

  it("refuses to start with a KEK that does not open the database's keys, and never replaces a missing one silently", async () => {
    const dataDir = tempDir();
    const srv = await startTestServer({ dataDir });
    try {
      await recordWithEvidence(srv, "dana");
    } finally {
      await srv.close();
    }
    const wrong = join(tempDir(), "wrong.kek");
    writeFileSync(wrong, `${Buffer.alloc(32, 7).toString("base64")}\n`);
    await expect(startTestServer({ dataDir, env: { EVIDENCE_KEK_FILE: wrong } })).rejects.toThrow(/does not open this database's subject keys/);
    const missing = join(tempDir(), "missing.kek");
    await expect(startTestServer({ dataDir, env: { EVIDENCE_KEK_FILE: missing } })).rejects.toThrow(/does not exist/);
    expect(() => statSync(missing)).toThrow();
  });
});
