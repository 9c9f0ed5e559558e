// Valid time (`at`) and transaction time (`knownAt`) through HTTP. The service runs on a test clock:
// "a moment later" is the clock moved by a few milliseconds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId, ok, onboard, recordConsent } from "./helpers.js";
import { TestClock } from "../support/clock.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const clock = new TestClock();
let srv: TestServer;
let reader: string;
let importer: string;

beforeAll(async () => {
  srv = await startTestServer({ clock });
  reader = await srv.token("officer", "consent:read ledger:read");
  importer = await srv.token("importer", "consent:write");
});
afterAll(() => srv.close());

const at = (ms: number) => new Date(ms).toISOString();

interface Consent {
  purpose: { id: string };
  status: string;
  permitted: boolean;
  reason: string;
  since: string | null;
}

async function consentOf(subjectId: string, purposeId: string, args: { at?: string; knownAt?: string } = {}): Promise<Consent> {
  const r = ok(await srv.gql<{ subject: { consents: Consent[] } }>(
    `query($s: ID!, $at: DateTime, $knownAt: DateTime) { subject(id: $s) { consents(at: $at, knownAt: $knownAt) { purpose { id } status permitted reason since } } }`,
    { s: subjectId, ...args },
    reader,
  ));
  const c = r.subject.consents.find((x) => x.purpose.id === purposeId);
  expect(c).toBeDefined();
  return c!;
}

async function permissionAt(subjectId: string, purposeId: string, when?: string) {
  return ok(await srv.gql<{ permission: { permitted: boolean; reason: string; status: string; expiresAt: string | null } }>(
    `query($s: ID!, $p: ID!, $at: DateTime) { permission(subjectId: $s, purposeId: $p, at: $at) { permitted reason status expiresAt } }`,
    { s: subjectId, p: purposeId, at: when },
    reader,
  )).permission;
}

describe("consents(at:)", () => {
  it("shows a grant before its withdrawal and the withdrawal after it (back-dated facts)", async () => {
    const s = freshId();
    const t0 = clock.now();
    ok(await recordConsent(srv, importer, { subjectId: s, policyVersion: 1, acceptPolicy: true, grant: ["location"], occurredAt: at(t0 - 3 * HOUR) }));
    ok(await recordConsent(srv, importer, { subjectId: s, policyVersion: 1, withdraw: ["location"], occurredAt: at(t0 - 1 * HOUR) }));
    expect(await consentOf(s, "location", { at: at(t0 - 4 * HOUR) })).toMatchObject({ permitted: false, reason: "POLICY_NOT_ACCEPTED", status: "NOT_ASKED" });
    expect(await consentOf(s, "location", { at: at(t0 - 2 * HOUR) })).toMatchObject({ permitted: true, reason: "GRANTED", status: "GRANTED", since: at(t0 - 3 * HOUR) });
    expect(await consentOf(s, "location", { at: at(t0 - 30 * 60_000) })).toMatchObject({ permitted: false, reason: "WITHDRAWN", status: "WITHDRAWN", since: at(t0 - 1 * HOUR) });
    expect(await consentOf(s, "location")).toMatchObject({ permitted: false, reason: "WITHDRAWN" });
  });

  it("shows a live withdrawal by the subject only from the instant it happened", async () => {
    const s = freshId();
    await onboard(srv, s, ["location"]);
    clock.advance(5);
    const between = at(clock.now());
    clock.advance(5);
    ok(await recordConsent(srv, await srv.token(s, "consent:self"), { policyVersion: 1, withdraw: ["location"] }));
    expect(await consentOf(s, "location", { at: between })).toMatchObject({ permitted: true, reason: "GRANTED" });
    expect(await consentOf(s, "location")).toMatchObject({ permitted: false, reason: "WITHDRAWN" });
  });

  it("policyStandings(at:) sees no accepted version before the acceptance", async () => {
    const s = freshId();
    const t0 = clock.now();
    ok(await recordConsent(srv, importer, { subjectId: s, policyVersion: 1, acceptPolicy: true, occurredAt: at(t0 - DAY) }));
    const q = `query($s: ID!, $at: DateTime) { subject(id: $s) { policyStandings(at: $at) { acceptedVersion { number } applicableVersion { number } } } }`;
    const before = ok(await srv.gql<{ subject: { policyStandings: { acceptedVersion: unknown; applicableVersion: unknown }[] } }>(q, { s, at: at(t0 - 2 * DAY) }, reader));
    expect(before.subject.policyStandings[0]).toEqual({ acceptedVersion: null, applicableVersion: null });
    const after = ok(await srv.gql<{ subject: { policyStandings: { acceptedVersion: unknown; applicableVersion: unknown }[] } }>(q, { s, at: at(t0 - HOUR) }, reader));
    expect(after.subject.policyStandings[0]).toEqual({ acceptedVersion: { number: 1 }, applicableVersion: { number: 1 } });
  });
});

describe("knownAt (transaction time)", () => {
  it("as known before a back-dated import, the import is not seen; `at` alone sees it", async () => {
    const s = freshId();
    const t0 = clock.now();
    clock.advance(5);
    const knownBefore = at(clock.now());
    clock.advance(5);
    ok(await recordConsent(srv, importer, { subjectId: s, policyVersion: 1, acceptPolicy: true, grant: ["location"], occurredAt: at(t0 - 10 * DAY) }));
    const when = at(t0 - 5 * DAY);
    expect(await consentOf(s, "location", { at: when })).toMatchObject({ permitted: true, reason: "GRANTED" });
    expect(await consentOf(s, "location", { at: when, knownAt: knownBefore })).toMatchObject({ permitted: false, reason: "POLICY_NOT_ACCEPTED", status: "NOT_ASKED" });
    // Known now (or any time after it was recorded), the import counts.
    expect(await consentOf(s, "location", { at: when, knownAt: at(clock.now()) })).toMatchObject({ permitted: true, reason: "GRANTED" });
  });

  it("a later back-dated correction is invisible as known before it, visible after", async () => {
    const s = freshId();
    const t0 = clock.now();
    ok(await recordConsent(srv, importer, { subjectId: s, policyVersion: 1, acceptPolicy: true, grant: ["location"], occurredAt: at(t0 - 10 * DAY) }));
    clock.advance(5);
    const knownBefore = at(clock.now());
    clock.advance(5);
    // Learnt today: the person had withdrawn 8 days ago.
    ok(await recordConsent(srv, importer, { subjectId: s, policyVersion: 1, withdraw: ["location"], occurredAt: at(t0 - 8 * DAY) }));
    const when = at(t0 - 5 * DAY);
    expect(await consentOf(s, "location", { at: when, knownAt: knownBefore })).toMatchObject({ permitted: true, reason: "GRANTED" });
    expect(await consentOf(s, "location", { at: when })).toMatchObject({ permitted: false, reason: "WITHDRAWN" });
  });

  it("as known before any policy was published, there was nothing to consent to: no states, and no error", async () => {
    const s = freshId();
    await onboard(srv, s);
    const q = `query($s: ID!, $k: DateTime, $p: ID) { subject(id: $s) { consents(knownAt: $k, policyId: $p) { purpose { id } } } }`;
    const before = ok(await srv.gql<{ subject: { consents: unknown[] } }>(q, { s, k: "2020-01-01T00:00:00Z" }, reader));
    expect(before.subject.consents).toEqual([]);
    const named = ok(await srv.gql<{ subject: { consents: unknown[] } }>(q, { s, k: "2020-01-01T00:00:00Z", p: "clavis-privacy" }, reader));
    expect(named.subject.consents).toEqual([]);
    const now = ok(await srv.gql<{ subject: { consents: unknown[] } }>(q, { s }, reader));
    expect(now.subject.consents.length).toBeGreaterThan(0);
    // A policy that was never published is still the client's mistake.
    const r = await srv.gql(q, { s, k: "2020-01-01T00:00:00Z", p: "no-such-policy" }, reader);
    expect(r.code).toBe("UNKNOWN_POLICY");
  });
});

describe("permission(at:)", () => {
  it("answers as of an instant: before a grant, while granted, after the consent expires", async () => {
    const s = freshId();
    const t0 = clock.now();
    ok(await recordConsent(srv, importer, { subjectId: s, policyVersion: 1, acceptPolicy: true, grant: ["location"], occurredAt: at(t0 - 2 * DAY) }));
    expect(await permissionAt(s, "location", at(t0 - 3 * DAY))).toMatchObject({ permitted: false, reason: "POLICY_NOT_ACCEPTED" });
    const now = await permissionAt(s, "location");
    expect(now).toMatchObject({ permitted: true, reason: "GRANTED", status: "GRANTED" });
    // location's consent lives 365 days (seed catalogue).
    expect(now.expiresAt).toBe(at(t0 - 2 * DAY + 365 * DAY));
    expect(await permissionAt(s, "location", at(t0 + 364 * DAY))).toMatchObject({ permitted: false, reason: "EXPIRED", status: "EXPIRED" });
  });

  it("a grant dated a little ahead (within the 5-minute skew) is not yet in force now", async () => {
    const s = freshId();
    const t0 = clock.now();
    ok(await recordConsent(srv, importer, { subjectId: s, policyVersion: 1, acceptPolicy: true, grant: ["location"], occurredAt: at(t0 + 3 * 60_000) }));
    expect(await permissionAt(s, "location")).toMatchObject({ permitted: false, reason: "POLICY_NOT_ACCEPTED" });
    expect(await permissionAt(s, "location", at(t0 + 4 * 60_000))).toMatchObject({ permitted: true, reason: "GRANTED" });
  });

  it("a subject's leaving ends every purpose from that instant, and not before", async () => {
    const s = freshId();
    await onboard(srv, s, ["location"]);
    clock.advance(5);
    const before = at(clock.now());
    clock.advance(5);
    ok(await srv.gql(`mutation { leaveService { status } }`, {}, await srv.token(s, "consent:self")));
    expect(await permissionAt(s, "service-provision", before)).toMatchObject({ permitted: true, reason: "REQUIRED_FOR_SERVICE" });
    expect(await permissionAt(s, "service-provision")).toMatchObject({ permitted: false, reason: "SUBJECT_LEFT" });
  });
});
