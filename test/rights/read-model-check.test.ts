// Finding 6: read tables edited by SQL are noticed by ledgerIntegrity and verify, which name the table.
import Database from "better-sqlite3";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkReadModels } from "../../src/storage/sqlite/read-model-check.js";
import { formatOfflineReport } from "../../src/rights/verify-offline.js";
import { SqliteEventStore } from "../../src/storage/sqlite/sqlite-event-store.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { verifyFile } from "../support/ledger-commands.js";
import { PERMISSION, RECORD, tokens } from "./support.js";

const INTEGRITY = `query { ledgerIntegrity { ok eventCount headPosition headHash firstInvalidPosition readModelsOk differingReadModels } }`;

interface Integrity {
  ok: boolean;
  eventCount: number;
  firstInvalidPosition: string | null;
  readModelsOk: boolean;
  differingReadModels: string[];
}

let srv: TestServer;
let token: ReturnType<typeof tokens>;
let dbPath: string;

beforeAll(async () => {
  srv = await startTestServer();
  token = tokens(srv);
  dbPath = join(srv.dataDir, "ledger.db");
  for (const s of ["ana", "ben", "cho"]) {
    const r = await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: s === "ana" ? ["location"] : [] } }, await token(s, "consent:self"));
    expect(r.errors).toBeUndefined();
  }
});
afterAll(() => srv.close());

const integrity = async (): Promise<Integrity> => {
  const r = await srv.gql<{ ledgerIntegrity: Integrity }>(INTEGRITY, {}, await token("auditor", "ledger:read"));
  expect(r.errors).toBeUndefined();
  return r.data!.ledgerIntegrity;
};

describe("finding 6: read tables edited by SQL", () => {
  it("are noticed: a GRANTED row inserted into consents makes ledgerIntegrity and verify fail, naming the table", async () => {
    expect(await integrity()).toMatchObject({ ok: true, readModelsOk: true, differingReadModels: [] });
    expect((await verifyFile(dbPath)).ok).toBe(true);

    // Someone with the database file grants ben a purpose he never granted.
    const sql = new Database(dbPath);
    const row = sql.prepare("SELECT * FROM consents WHERE subject_id = 'ana' AND purpose_id = 'location'").get() as Record<string, unknown>;
    sql.prepare(
      `INSERT INTO consents (subject_id, policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position)
       VALUES ('ben', @policy_id, 'location', 1, @occurred_at, @expires_at, @policy_version, @event_id, @position)`,
    ).run(row);
    sql.close();
    const forged = await srv.gql<{ permission: { permitted: boolean } }>(PERMISSION, { s: "ben", p: "location" }, await token("svc", "consent:read"));
    expect(forged.data!.permission.permitted).toBe(true); // what the edit achieves: why it must be noticed

    const after = await integrity();
    expect(after).toMatchObject({ ok: false, readModelsOk: false, differingReadModels: ["consents"], firstInvalidPosition: null });

    const offline = await verifyFile(dbPath);
    expect(offline.ok).toBe(false);
    expect(offline.chain.ok).toBe(true);
    expect(offline.readModels).toMatchObject({ ok: false, differingTables: ["consents"] });
    const text = formatOfflineReport(offline);
    expect(text).toMatch(/read tables DIFFER from a rebuild of the log: consents/);
    expect(text.trim().split("\n").at(-1)).toBe("FAILED");

    // A rebuild from the log puts things right, and the check agrees.
    await srv.app.services.ledger.rebuild();
    expect(await integrity()).toMatchObject({ ok: true, readModelsOk: true });
    const fixed = await srv.gql<{ permission: { permitted: boolean } }>(PERMISSION, { s: "ben", p: "location" }, await token("svc", "consent:read"));
    expect(fixed.data!.permission.permitted).toBe(false);
  });

  it("notices a deleted or altered row in any read table", async () => {
    const cases: [string, string][] = [
      ["data_requests", "INSERT INTO data_requests (id, subject_id, kind, status, opened_at, due_at, closed_at, note, position) VALUES ('x', 'cho', 'DELETION', 'OPEN', 0, 0, NULL, NULL, 1)"],
      ["subjects", "UPDATE subjects SET status = 'ERASED' WHERE subject_id = 'cho'"],
      ["standings", "DELETE FROM standings WHERE subject_id = 'cho'"],
      ["consent_history", "UPDATE consent_history SET granted = 0 WHERE subject_id = 'ana'"],
    ];
    for (const [table, edit] of cases) {
      const sql = new Database(dbPath);
      sql.exec(edit);
      sql.close();
      expect((await integrity()).differingReadModels, table).toEqual([table]);
      await srv.app.services.ledger.rebuild();
      expect((await integrity()).readModelsOk, table).toBe(true);
    }
  });

  it("gives the event loop back while it rebuilds and compares", async () => {
    const store = new SqliteEventStore({ path: dbPath, readonly: true });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    try {
      const r = await checkReadModels(store, { chunk: 1 });
      expect(r.ok).toBe(true);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
      await store.close();
    }
  });
});
