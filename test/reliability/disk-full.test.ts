// A full disk and a read-only database: writes refused with STORE_UNAVAILABLE, reads served, nothing partial, recovery.
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { ALL_SCOPES, type Answer, RECORD, type RecordAnswer, allEvents, integrity, post, readyz } from "./support.js";
import { sqlite } from "../support/ledger-commands.js";

let srv: TestServer;
let admin: string;

beforeAll(async () => {
  // The pragmas below simulate a full disk on the connection that writes: in-process, this thread's.
  srv = await startTestServer({ env: { SQLITE_WRITER: "in-process" } });
  admin = await srv.token("officer", ALL_SCOPES);
});
afterAll(() => srv.close());
afterEach(() => {
  // A failed assertion must not leave the next test a full or read-only database.
  db().pragma("query_only = 0");
  db().pragma("max_page_count = 1073741823");
});

const db = () => sqlite(srv.app.services.ledger).store.db;
const fresh = () => `rel-${randomUUID().slice(0, 12)}`;

/** A first call for a new subject: accepts the policy and grants an opt-in purpose (two events). */
const onboard = (subjectId: string) =>
  post<RecordAnswer>(srv.url, RECORD, { input: { subjectId, policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, admin);

const READS = `query Reads($id: ID!) {
  me { id status }
  permission(subjectId: $id, purposeId: "location") { permitted reason }
  subject(id: $id) { version consents { purpose { id } status } }
}`;

/** Every acknowledged call's events are in the log; a refused call's subject has none; nothing else appeared. */
async function expectExactly(acknowledged: Map<string, RecordAnswer["recordConsent"]["events"]>, refused: string[], countBefore: number) {
  const log = await allEvents(srv.url, admin);
  const byId = new Map(log.map((e) => [e.id, e]));
  let added = 0;
  for (const events of acknowledged.values()) {
    added += events.length;
    for (const e of events) expect(byId.get(e.id)).toMatchObject({ position: e.position, hash: e.hash });
  }
  const refusedSet = new Set(refused);
  expect(log.filter((e) => e.subjectId !== null && refusedSet.has(e.subjectId))).toEqual([]);
  expect(log.length).toBe(countBefore + added);
  const report = await integrity(srv.url, admin);
  expect(report).toMatchObject({ ok: true, eventCount: countBefore + added, firstInvalidPosition: null });
}

function expectStoreUnavailable(r: Answer<unknown>) {
  expect(r.status).toBeLessThan(500);
  expect(r.code).toBe("STORE_UNAVAILABLE");
  expect(r.errors).toHaveLength(1);
  expect(r.errors?.[0]?.message).toMatch(/nothing was recorded/);
  expect(JSON.stringify(r.errors)).not.toMatch(/SQLITE|database or disk|at \w+ \(/);
  expect(r.data ?? null).toBeNull();
}

describe("disk full (max_page_count reached on the server's own connection)", () => {
  it("refuses writes with STORE_UNAVAILABLE, turns /readyz 503, keeps serving reads, appends nothing partial, and recovers when space returns", async () => {
    const known = fresh();
    expect((await onboard(known)).errors).toBeUndefined();
    const before = (await integrity(srv.url, admin)).eventCount;
    expect(await readyz(srv.url)).toBe(200);

    const pages = db().pragma("page_count", { simple: true }) as number;
    db().pragma(`max_page_count = ${pages}`);
    expect(db().pragma("max_page_count", { simple: true })).toBe(pages);

    // Concurrent waves share group commits: the call that hits the full disk sits among others.
    const acknowledged = new Map<string, RecordAnswer["recordConsent"]["events"]>();
    const refused: string[] = [];
    const others: Answer<RecordAnswer>[] = [];
    for (let wave = 0; wave < 50 && refused.length === 0; wave++) {
      const ids = Array.from({ length: 20 }, fresh);
      const answers = await Promise.all(ids.map(onboard));
      answers.forEach((r, i) => {
        if (r.data) acknowledged.set(ids[i]!, r.data.recordConsent.events);
        else if (r.code === "STORE_UNAVAILABLE") refused.push(ids[i]!);
        else others.push(r);
      });
    }
    expect(others.map((r) => r.errors)).toEqual([]);
    expect(refused.length).toBeGreaterThan(0);
    const failed = await onboard(fresh());
    expectStoreUnavailable(failed);

    expect(await readyz(srv.url)).toBe(503);
    const subjectToken = await srv.token(known, "consent:self consent:read");
    const reads = await post<{ me: { id: string }; permission: { permitted: boolean } }>(srv.url, READS, { id: known }, subjectToken);
    expect(reads.errors).toBeUndefined();
    expect(reads.data?.me.id).toBe(known);
    expect(reads.data?.permission).toMatchObject({ permitted: true, reason: "GRANTED" });

    await expectExactly(acknowledged, refused, before);

    db().pragma(`max_page_count = ${pages + 100_000}`);
    // Readiness recovers before any write proves it: a 503 would otherwise keep the writes away for good.
    expect(await readyz(srv.url)).toBe(200);
    const again = fresh();
    const ok = await onboard(again);
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.recordConsent.events).toHaveLength(2);
    acknowledged.set(again, ok.data!.recordConsent.events);
    expect(await readyz(srv.url)).toBe(200);
    await expectExactly(acknowledged, refused, before);
  });
});

describe("disk full in the middle of a group commit", () => {
  it("refuses every command of that commit with STORE_UNAVAILABLE and stores none of them", async () => {
    // HTTP requests rarely land in the same tick; calls made in one tick share one group commit for sure.
    const ledger = srv.app.services.ledger;
    const before = sqlite(ledger).store.eventCount();
    const pages = db().pragma("page_count", { simple: true }) as number;
    db().pragma(`max_page_count = ${pages}`);
    const ids = Array.from({ length: 300 }, fresh);
    const outcomes = await Promise.allSettled(
      ids.map((id) =>
        ledger.recordConsent(
          id,
          { policyId: null, policyVersion: 1, acceptPolicy: true, grant: ["location"], withdraw: [], occurredAt: null, evidence: { userAgent: "x".repeat(200) }, expectedVersion: 0 },
          { kind: "SERVICE", id: "officer" },
        ),
      ),
    );
    // SQLite rolls the whole transaction back on SQLITE_FULL: the commands after the failing one must
    // not go on to commit one by one while their callers are told that nothing was recorded.
    const codes = new Set(outcomes.map((o) => (o.status === "rejected" ? (o.reason as { code?: string }).code : "ok")));
    expect([...codes]).toEqual(["STORE_UNAVAILABLE"]);
    expect(sqlite(ledger).store.eventCount()).toBe(before);
    expect((await ledger.integrity())).toMatchObject({ ok: true, eventCount: before });
    expect(await readyz(srv.url)).toBe(503);

    db().pragma(`max_page_count = ${pages + 100_000}`);
    expect(await readyz(srv.url)).toBe(200);
    const r = await onboard(ids[0]!);
    expect(r.errors).toBeUndefined();
    // The chain continues from the stored head, not from the rolled-back one.
    expect((await ledger.integrity())).toMatchObject({ ok: true, eventCount: before + 2 });
  });
});

describe("read-only database (query_only on the server's own connection)", () => {
  it("refuses every kind of write with STORE_UNAVAILABLE, keeps serving reads, and recovers when writes are allowed again", async () => {
    const known = fresh();
    expect((await onboard(known)).errors).toBeUndefined();
    const before = (await integrity(srv.url, admin)).eventCount;

    db().pragma("query_only = 1");
    try {
      const refused = Array.from({ length: 5 }, fresh);
      for (const r of await Promise.all(refused.map(onboard))) expectStoreUnavailable(r);
      expectStoreUnavailable(await post(srv.url, `mutation($id: ID!) { suspendProcessing(subjectId: $id, reason: "ro") { status } }`, { id: known }, admin));
      expectStoreUnavailable(await post(srv.url, `mutation($id: ID) { openDataRequest(input: { subjectId: $id, kind: DISCLOSURE }) { id } }`, { id: known }, admin));
      expect(await readyz(srv.url)).toBe(503);

      const reads = await post<{ me: { id: string }; permission: { permitted: boolean } }>(srv.url, READS, { id: known }, await srv.token(known, "consent:self consent:read"));
      expect(reads.errors).toBeUndefined();
      expect(reads.data?.permission).toMatchObject({ permitted: true, reason: "GRANTED" });
      // Still no-ready while the cause lasts, however often it is asked.
      expect(await readyz(srv.url)).toBe(503);
      await expectExactly(new Map(), [...refused, known].slice(0, -1), before);
      expect((await integrity(srv.url, admin)).eventCount).toBe(before);
    } finally {
      db().pragma("query_only = 0");
    }

    expect(await readyz(srv.url)).toBe(200);
    const after = await post<{ suspendProcessing: { status: string } }>(srv.url, `mutation($id: ID!) { suspendProcessing(subjectId: $id) { status } }`, { id: known }, admin);
    expect(after.errors).toBeUndefined();
    expect(after.data?.suspendProcessing.status).toBe("SUSPENDED");
    expect(await integrity(srv.url, admin)).toMatchObject({ ok: true, eventCount: before + 1 });
  });
});
