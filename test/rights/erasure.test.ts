// Erasure by crypto-shredding: after eraseSubject nothing the service shows, logs or backs up reveals the subject's evidence.
import { join } from "node:path";
import { Writable } from "node:stream";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createLogger, startApp } from "../../src/app.js";
import { issueDevToken } from "../../src/auth/dev-keys.js";
import { loadConfig } from "../../src/config.js";
import { backupDatabase } from "../../src/storage/sqlite/backup.js";
import { OFFICER, ledgerWithCatalog, subjectActor, sqlite } from "../support/ledger-commands.js";
import { CLOSE_REQUEST, ERASE, EXPORT, OPEN_REQUEST, RECORD, SUSPEND, RESUME, VERIFY_REQUEST, contains, databaseBytes } from "./support.js";
import { tempDir, postGraphql } from "../support/common.js";

/** Personal strings of the subject to erase; none may survive erasure anywhere. */
const ALICE = {
  ip: "198.51.100.77",
  ua: "ErasureProbe/9.1 (alice-ua-7f3a)",
  reason: "called from 03-1234-5678 about alice's account",
  note: "please delete everything, I am Alice Liddell",
  method: "passport TK4455667",
};
/** The officer's own record of the work: not the subject's data, so it outlives the erasure */
const OFFICER_NOTE = "削除完了 (deleted as asked, officer-close-note)";
const BOB = { ip: "203.0.113.201", ua: "ControlProbe/1.0 (bob-ua-c0c0)" };

describe("eraseSubject over the API", () => {
  const dir = tempDir();
  const logLines: string[] = [];
  let app: App;
  let dbPath: string;
  let aliceKey: Buffer;
  let bobKey: Buffer;
  let sealedSample: { sealed: string };
  let grantedAt: string;

  const gql = (query: string, variables: Record<string, unknown>, token: string) => postGraphql(app.url, query, variables, token);
  const tok = (sub: string, scope: string) => issueDevToken({ dataDir: dir.dir, sub, scope });

  beforeAll(async () => {
    dbPath = join(dir.dir, "ledger.db");
    const config = loadConfig({ PORT: "0", DATA_DIR: dir.dir, DATABASE_URL: `sqlite:${dbPath}`, CATALOG_DIR: "data/policies", LOG_LEVEL: "trace" });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString("utf8"));
        done();
      },
    });
    app = await startApp(config, { logger: createLogger("trace", sink) });
    const officer = await tok("officer", "subject:admin ledger:read consent:read");
    const alice = await tok("alice", "consent:self");
    const bob = await tok("bob", "consent:self");

    const evidence = (p: { ip: string; ua: string }) => ({ ipAddress: p.ip, userAgent: p.ua, channel: "web", locale: "ja-JP" });
    const a = await gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"], evidence: evidence(ALICE) } }, alice);
    expect(a.errors).toBeUndefined();
    expect((await gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"], evidence: evidence(BOB) } }, bob)).errors).toBeUndefined();
    // A refused call carrying the evidence: its error must not be logged with the input.
    expect((await gql(RECORD, { input: { policyVersion: 1, grant: ["location"], withdraw: ["location"], evidence: evidence(ALICE) } }, alice)).errors?.[0]?.extensions?.code).toBe(
      "BAD_USER_INPUT",
    );
    expect((await gql(SUSPEND, { s: "alice", r: ALICE.reason }, officer)).errors).toBeUndefined();
    expect((await gql(RESUME, { s: "alice" }, officer)).errors).toBeUndefined();
    const opened = await gql(OPEN_REQUEST, { input: { kind: "DELETION", note: ALICE.note } }, alice);
    const requestId = (opened.data!.openDataRequest as { id: string }).id;
    expect((await gql(VERIFY_REQUEST, { id: requestId, m: ALICE.method }, officer)).errors).toBeUndefined();

    const db = sqlite(app.services.ledger).store.db;
    const keyOf = db.prepare("SELECT key FROM subject_keys WHERE subject_id = ?").pluck();
    aliceKey = keyOf.get("alice") as Buffer;
    bobKey = keyOf.get("bob") as Buffer;
    const row = db.prepare("SELECT data, occurred_at FROM events WHERE subject_id = 'alice' AND type = 'ConsentGranted'").get() as { data: string; occurred_at: number };
    sealedSample = (JSON.parse(row.data) as { evidence: { sealed: string } }).evidence;
    grantedAt = new Date(row.occurred_at).toISOString();
    expect(sqlite(app.services.ledger).vault.open("alice", sealedSample)).toMatchObject({ ipAddress: ALICE.ip });
    // Before erasure the export shows the evidence: the later absence is the erasure's doing.
    expect(JSON.stringify((await gql(EXPORT, { s: "alice" }, officer)).data)).toContain(ALICE.ua);

    // Erasure as the data request's fulfilment, with a note written in the same call.
    const closed = await gql(CLOSE_REQUEST, { id: requestId, f: true, n: OFFICER_NOTE }, officer);
    expect(closed.errors).toBeUndefined();
    expect((closed.data!.closeDataRequest as { status: string }).status).toBe("FULFILLED");
  });
  afterAll(async () => {
    await app.close();
    dir.cleanup();
  });

  const probes = Object.values(ALICE);

  it("no query, feed or export shows the erased subject's evidence or free text", async () => {
    const officer = await tok("officer", "subject:admin ledger:read consent:read");
    const reads = [
      await gql(EXPORT, { s: "alice" }, officer),
      await gql(`query { events(first: 100) { edges { node { type subjectId data } } } }`, {}, officer),
      await gql(`query($s: ID!) { subject(id: $s) { status history(first: 50) { edges { node { type data } } } dataRequests { note status } } }`, { s: "alice" }, officer),
      await gql(`query { dataRequests { subjectId note } }`, {}, officer),
    ];
    for (const r of reads) {
      expect(r.errors).toBeUndefined();
      const text = JSON.stringify(r.data);
      for (const p of probes) expect(text).not.toContain(p);
    }
    const feed = JSON.stringify(reads[1]!.data);
    // Bob's evidence is untouched.
    expect(feed).toContain(BOB.ua);
    const history = (reads[2]!.data!.subject as { status: string; history: { edges: { node: { type: string; data: Record<string, unknown> } }[] } });
    expect(history.status).toBe("ERASED");
    const byType = (t: string) => history.history.edges.map((e) => e.node).filter((n) => n.type === t);
    expect(byType("ConsentGranted")[0]!.data).toMatchObject({ policyId: "clavis-privacy", version: 1, purposeId: "location", evidence: { erased: true } });
    expect(byType("ProcessingSuspended")[0]!.data).toEqual({ reason: { erased: true } });
    expect(byType("DataRequestOpened")[0]!.data).toMatchObject({ kind: "DELETION", note: { erased: true } });
    // finding 4: proof that identity was checked, and the officer's note, outlive the erasure.
    expect(byType("DataRequestIdentityVerified")[0]!.data).toMatchObject({ method: { erased: true }, label: "recorded" });
    expect(byType("DataRequestClosed")[0]!.data).toMatchObject({ fulfilled: true, officerNote: OFFICER_NOTE });
    expect(byType("SubjectErased")[0]!.data).toMatchObject({ dataRequestId: expect.any(String) });
  });

  it("the consent facts stay readable and the chain stays intact", async () => {
    const officer = await tok("officer", "subject:admin ledger:read consent:read");
    const past = await gql(
      `query($s: ID!, $at: DateTime!) { subject(id: $s) { consents(at: $at) { purpose { id } status permitted since policyVersion } } }`,
      { s: "alice", at: new Date(Date.parse(grantedAt) + 1).toISOString() },
      officer,
    );
    const consents = (past.data!.subject as { consents: { purpose: { id: string }; status: string; permitted: boolean; since: string | null }[] }).consents;
    expect(consents.find((c) => c.purpose.id === "location")).toMatchObject({ status: "GRANTED", permitted: true, since: grantedAt, policyVersion: 1 });
    const integrity = await gql(`query { ledgerIntegrity { ok firstInvalidPosition } }`, {}, officer);
    expect(integrity.data!.ledgerIntegrity).toEqual({ ok: true, firstInvalidPosition: null });
  });

  it("the subject's key is gone from the database file and its WAL, and sealed values no longer open", () => {
    const bytes = databaseBytes(dbPath);
    expect(contains(bytes, bobKey)).toBe(true); // the search finds a key that still exists
    expect(contains(bytes, aliceKey)).toBe(false);
    for (const p of probes) expect(contains(bytes, p)).toBe(false);
    const { vault } = sqlite(app.services.ledger);
    expect(vault.hasKey("alice")).toBe(false);
    expect(vault.open("alice", sealedSample)).toEqual({ erased: true });
    // The sealed bytes themselves are still there: the chain over them still verifies.
    expect(contains(bytes, sealedSample.sealed)).toBe(true);
  });

  it("a backup made after the erasure holds neither the key nor the evidence", async () => {
    const file = join(dir.dir, "after-erasure.db");
    const r = await backupDatabase(dbPath, file);
    expect(r.chain.ok).toBe(true);
    const bytes = databaseBytes(file);
    expect(contains(bytes, bobKey)).toBe(true);
    expect(contains(bytes, aliceKey)).toBe(false);
    for (const p of probes) expect(contains(bytes, p)).toBe(false);
  });

  it("no log line carries the evidence", () => {
    expect(logLines.length).toBeGreaterThan(0);
    const all = logLines.join("");
    for (const p of [...probes, BOB.ip, BOB.ua]) expect(all).not.toContain(p);
  });

  it("finding 4: the officer's note on the fulfilled DELETION and the identity check's label are kept", async () => {
    const officer = await tok("officer", "subject:admin ledger:read consent:read");
    const r = await gql(`query($s: ID!) { subject(id: $s) { dataRequests { kind status note identityCheck } } }`, { s: "alice" }, officer);
    expect(r.errors).toBeUndefined();
    expect((r.data!.subject as { dataRequests: unknown[] }).dataRequests).toEqual([{ kind: "DELETION", status: "FULFILLED", note: OFFICER_NOTE, identityCheck: "recorded" }]);
  });

  it("an erased subject gets no new key: closing its open request afterwards keeps only the officer's note", async () => {
    const officer = await tok("officer", "subject:admin ledger:read consent:read");
    const carol = await tok("carol", "consent:self");
    await gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, evidence: { ipAddress: "192.0.2.55" } } }, carol);
    const opened = await gql(OPEN_REQUEST, { input: { kind: "DISCLOSURE" } }, carol);
    const id = (opened.data!.openDataRequest as { id: string }).id;
    expect((await gql(ERASE, { s: "carol" }, officer)).errors).toBeUndefined();
    const closed = await gql(CLOSE_REQUEST, { id, f: false, n: "withdrawn by erasure: carol-note" }, officer);
    expect((closed.data!.closeDataRequest as { status: string; note: string }).note).toBe("withdrawn by erasure: carol-note");
    expect(sqlite(app.services.ledger).vault.hasKey("carol")).toBe(false);
  });
});

describe("crypto-shredding in the file", () => {
  it("erasing some of many subjects leaves none of their keys in the file, whatever the b-tree's shape", async () => {
    const dir = tempDir();
    const path = join(dir.dir, "ledger.db");
    const { ledger } = await ledgerWithCatalog(undefined, path);
    try {
      const ids = Array.from({ length: 400 }, (_, i) => `s${String(i).padStart(4, "0")}`);
      await Promise.all(
        ids.map((id) =>
          ledger.recordConsent(id, { policyId: null, policyVersion: 1, acceptPolicy: true, grant: [], withdraw: [], occurredAt: null, evidence: { ipAddress: "192.0.2.1" }, expectedVersion: null }, subjectActor(id)),
        ),
      );
      const keyOf = sqlite(ledger).store.db.prepare("SELECT key FROM subject_keys WHERE subject_id = ?").pluck();
      const keys = new Map(ids.map((id) => [id, keyOf.get(id) as Buffer]));
      const erased = ids.filter((_, i) => i % 9 === 0);
      await Promise.all(erased.map((id) => ledger.eraseSubject(id, null, OFFICER)));
      const bytes = databaseBytes(path);
      for (const id of ids) expect(contains(bytes, keys.get(id)!), id).toBe(!erased.includes(id));
    } finally {
      await ledger.close();
      dir.cleanup();
    }
  });

  it("a reader holding an old snapshot delays the WAL's truncation; the ledger retries until the key is gone", async () => {
    const dir = tempDir();
    const path = join(dir.dir, "ledger.db");
    const { ledger } = await ledgerWithCatalog(undefined, path);
    const reader = new Database(path, { readonly: true });
    try {
      await ledger.recordConsent("dana", { policyId: null, policyVersion: 1, acceptPolicy: true, grant: [], withdraw: [], occurredAt: null, evidence: { ipAddress: "192.0.2.9" }, expectedVersion: null }, subjectActor("dana"));
      const key = sqlite(ledger).store.db.prepare("SELECT key FROM subject_keys WHERE subject_id = 'dana'").pluck().get() as Buffer;
      reader.exec("BEGIN");
      reader.prepare("SELECT COUNT(*) FROM subject_keys").get(); // takes a snapshot that still holds the key
      await ledger.eraseSubject("dana", null, OFFICER);
      expect(contains(databaseBytes(path), key)).toBe(true); // the old page image is still in the WAL
      reader.exec("COMMIT");
      await expect.poll(() => contains(databaseBytes(path), key), { timeout: 5_000, interval: 50 }).toBe(false);
    } finally {
      reader.close();
      await ledger.close();
      dir.cleanup();
    }
  });
});
