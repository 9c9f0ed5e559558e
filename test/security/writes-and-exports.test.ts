// Finding 3 of the third review: one subject's record cannot be grown without bound by its own
// token, and an export is bounded in size and built one at a time per caller.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.js";
import { TestClock } from "../support/ledger-commands.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId, ok, recordConsent } from "../api/helpers.js";

const QUOTA = 5;
let srv: TestServer;
const clock = new TestClock(Date.now());

beforeAll(async () => {
  srv = await startTestServer({ clock: clock.now, env: { MAX_WRITES_PER_SUBJECT_PER_MINUTE: String(QUOTA), MAX_RESPONSE_BYTES: "65536" } });
});
afterAll(() => srv.close());

const VERSION = `query($id: ID!) { subject(id: $id) { version } }`;

describe("finding 3: a per-subject write quota", () => {
  it("has a documented default that ordinary use does not reach", () => {
    expect(loadConfig({}).limits.maxWritesPerSubjectPerMinute).toBe(600);
  });

  it(`the ${QUOTA + 1}th write of a minute to one subject is TOO_MANY_REQUESTS and appends nothing; other subjects and the next minute are served`, async () => {
    const me = freshId("quota");
    const token = await srv.token(me, "consent:self");
    ok(await recordConsent(srv, token, { policyVersion: 1, acceptPolicy: true }));
    for (let i = 1; i < QUOTA; i++) ok(await recordConsent(srv, token, { policyVersion: 1, [i % 2 ? "grant" : "withdraw"]: ["location"] }));
    const officer = await srv.token("quota-officer", "consent:read");
    const before = ok(await srv.gql<{ subject: { version: number } }>(VERSION, { id: me }, officer)).subject.version;

    const refused = await recordConsent(srv, token, { policyVersion: 1, grant: ["access-analytics"] });
    expect(refused.code).toBe("TOO_MANY_REQUESTS");
    expect(refused.errors?.[0]?.extensions?.["retryAfterSeconds"]).toBeGreaterThan(0);
    expect(ok(await srv.gql<{ subject: { version: number } }>(VERSION, { id: me }, officer)).subject.version).toBe(before);

    // Another subject is not held up by this one.
    const other = freshId("quota");
    ok(await recordConsent(srv, await srv.token(other, "consent:self"), { policyVersion: 1, acceptPolicy: true }));

    clock.advance(60_000);
    ok(await recordConsent(srv, token, { policyVersion: 1, grant: ["access-analytics"] }));
  });

  it("erasure is never refused by the quota", async () => {
    const me = freshId("quota");
    const token = await srv.token(me, "consent:self");
    for (let i = 0; i < QUOTA; i++) ok(await recordConsent(srv, token, { policyVersion: 1, acceptPolicy: i === 0, [i % 2 ? "withdraw" : "grant"]: ["location"] }));
    expect((await recordConsent(srv, token, { policyVersion: 1, grant: ["location"] })).code).toBe("TOO_MANY_REQUESTS");
    const erased = await srv.gql(`mutation($id: ID!) { eraseSubject(subjectId: $id) { id } }`, { id: me }, await srv.token("dpo", "subject:admin"));
    expect(erased.errors).toBeUndefined();
  });
});

const EXPORT = `query($s: ID!) { subjectExport(subjectId: $s) }`;
const BIG_EVIDENCE = { channel: "web", userAgent: "u".repeat(1_000), ipAddress: "192.0.2.1" };

describe("finding 3: subjectExport is bounded in size and in concurrency per caller", () => {
  it("an export larger than MAX_RESPONSE_BYTES is RESPONSE_TOO_LARGE; a small one is built", async () => {
    clock.advance(60_000);
    const big = freshId("exp");
    const token = await srv.token(big, "consent:self");
    ok(await recordConsent(srv, token, { policyVersion: 1, acceptPolicy: true, grant: ["location"], evidence: BIG_EVIDENCE }));
    // About 80 KB of events, written within the quota minute by minute.
    for (let i = 1; i < 80; i++) {
      if (i % QUOTA === 0) clock.advance(60_000);
      ok(await recordConsent(srv, token, { policyVersion: 1, [i % 2 ? "withdraw" : "grant"]: ["location"], evidence: BIG_EVIDENCE }));
    }
    const r = await srv.gql(EXPORT, { s: big }, token);
    expect(r.code).toBe("RESPONSE_TOO_LARGE");
    expect(r.data?.["subjectExport"] ?? null).toBeNull();

    const small = freshId("exp");
    const smallToken = await srv.token(small, "consent:self");
    ok(await recordConsent(srv, smallToken, { policyVersion: 1, acceptPolicy: true }));
    expect(ok(await srv.gql<{ subjectExport: { events: unknown[] } }>(EXPORT, { s: small }, smallToken)).subjectExport.events.length).toBeGreaterThan(0);
  });

  it("a second export by the same caller while one is being built is TOO_MANY_REQUESTS; another caller is served", async () => {
    const me = freshId("exp");
    const token = await srv.token(me, "consent:self");
    ok(await recordConsent(srv, token, { policyVersion: 1, acceptPolicy: true }));
    const { ledger } = srv.app.services;
    const real = ledger.head.bind(ledger);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const spy = vi.spyOn(ledger, "head").mockImplementationOnce(() => gate.then(real));
    const first = srv.gql<{ subjectExport: { events: unknown[] } }>(EXPORT, { s: me }, token);
    await vi.waitFor(() => expect(spy).toHaveBeenCalledTimes(1));
    const second = await srv.gql(EXPORT, { s: me }, token);
    expect(second.code).toBe("TOO_MANY_REQUESTS");
    const other = freshId("exp");
    const otherToken = await srv.token(other, "consent:self");
    ok(await recordConsent(srv, otherToken, { policyVersion: 1, acceptPolicy: true }));
    ok(await srv.gql(EXPORT, { s: other }, otherToken));
    release();
    expect(ok(await first).subjectExport.events.length).toBeGreaterThan(0);
    spy.mockRestore();
  });
});
