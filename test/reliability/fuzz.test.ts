// Generated junk as variables of every mutation and some queries: a client error or a success, never a 5xx, a hang or a partial append.
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { ALL_SCOPES, type Answer, RECORD, integrity, post } from "./support.js";

/** Every code a client may be answered with for its own mistake or the ledger's refusal. */
const CLIENT_CODES = new Set([
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "QUERY_TOO_COMPLEX",
  "QUERY_TOO_DEEP",
  "FORBIDDEN",
  "NOT_FOUND",
  "UNKNOWN_POLICY",
  "UNKNOWN_POLICY_VERSION",
  "UNKNOWN_PURPOSE",
  "REQUIRED_PURPOSE",
  "POLICY_NOT_ACCEPTED",
  "SUBJECT_INACTIVE",
  "VERSION_CONFLICT",
  "IDEMPOTENCY_CONFLICT",
  "IDENTITY_NOT_VERIFIED",
  "INVALID_STATE",
  "NOT_YET_LOGGED",
  "TRANSFER_NOT_PERMITTED",
  "POLICY_VERSION_SUPERSEDED",
  "CONSENT_REQUIRED_CHANGE",
  "TOO_MANY_OPEN_REQUESTS",
]);

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);

let srv: TestServer;
let admin: string;
const subjects = Array.from({ length: 4 }, (_, i) => `fuzz-${i}-${randomUUID().slice(0, 8)}`);
const requestIds: string[] = [];

beforeAll(async () => {
  srv = await startTestServer();
  admin = await srv.token("fuzz-officer", ALL_SCOPES);
  for (const subjectId of subjects.slice(0, 3)) {
    const r = await post(srv.url, RECORD, { input: { subjectId, policyVersion: 1, acceptPolicy: true, grant: ["location"] } }, admin);
    expect(r.errors).toBeUndefined();
  }
  for (const kind of ["DISCLOSURE", "CORRECTION", "SUSPENSION", "DELETION"]) {
    const r = await post<{ openDataRequest: { id: string } }>(
      srv.url,
      `mutation($s: ID, $k: DataRequestKind!) { openDataRequest(input: { subjectId: $s, kind: $k }) { id } }`,
      { s: subjects[0], k: kind },
      admin,
    );
    expect(r.errors).toBeUndefined();
    requestIds.push(r.data!.openDataRequest.id);
  }
}, 30_000);
afterAll(() => srv.close());

// ---- the junk ----

const unicode = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }), // any code point, lone surrogates included
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("\ud800", "a\udfffb", "\u0000", "‮", "🏳️‍🌈", "null", "", " ", "../../etc/passwd", "'; DROP TABLE events; --", "x".repeat(5_000)),
);
const date = fc.oneof(
  { weight: 3, arbitrary: fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date(Date.now() + 120_000), noInvalidDate: true }).map((d) => d.toISOString()) },
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom(
    "2024-02-30T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-01-01T25:00:00Z",
    "2024-01-01",
    "2024-01-01T00:00:00",
    "2024-01-01T00:00:60Z",
    "+275760-09-13T00:00:00.000Z",
    "-271821-04-20T00:00:00.000Z",
    "9999-12-31T23:59:59.999+14:00",
    "0000-01-01T00:00:00Z",
    "1970-01-01T00:00:00.000000001Z",
    "now",
    new Date(Date.now() + 60_000).toISOString(),
    new Date(Date.now() + 3_600_000).toISOString(),
    new Date(Date.now() - 86_400_000).toISOString(),
  ),
);
const number = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -1, 1, 2, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), 1e308, -1e308, 0.5, Number.MAX_SAFE_INTEGER),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const scalarJunk = fc.oneof(unicode, date, number, fc.boolean(), fc.constant(null));
const junk: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalarJunk, tie("list"), tie("object")),
  list: fc.array(tie("value"), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("__proto__", "constructor", "subjectId", "plain", "sealed")), tie("value"), { maxKeys: 4 }),
})).value;
const hugeList = fc.oneof(
  fc.integer({ min: 201, max: 1_500 }).map((n) => Array.from({ length: n }, (_, i) => `p${i}`)),
  fc.integer({ min: 50, max: 600 }).map((n) => Array.from({ length: n }, () => "location")),
);

/** A field that is sometimes right, sometimes near-right, sometimes junk; `undefined` leaves it out. */
const field = (...good: fc.Arbitrary<unknown>[]) => fc.oneof({ weight: 3, arbitrary: fc.oneof(...good) }, { weight: 2, arbitrary: junk }, { weight: 1, arbitrary: fc.constant(undefined) });
/** For inputs of many fields: mostly right, so that whole inputs get past validation often enough to reach the ledger. */
const mostly = (...good: fc.Arbitrary<unknown>[]) => fc.oneof({ weight: 14, arbitrary: fc.oneof(...good) }, { weight: 1, arbitrary: junk }, { weight: 1, arbitrary: fc.constant(undefined) });

const subjectId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...subjects, "fuzz-officer") },
  { weight: 1, arbitrary: fc.constantFrom("", "x".repeat(300), "fuzz officer", "ü", "\ud800") },
);
const purposeId = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("location", "linked-accounts", "third-party-provision") },
  { weight: 1, arbitrary: fc.constantFrom("support", "access-analytics", "no-such-purpose", "") },
);
const purposes = fc.oneof(
  { weight: 6, arbitrary: fc.uniqueArray(purposeId, { maxLength: 2 }) },
  { weight: 1, arbitrary: fc.array(purposeId, { maxLength: 4 }) },
  { weight: 1, arbitrary: hugeList },
);
const policyId = fc.constantFrom("clavis-privacy", "no-such-policy", "fuzz-policy", "");
// The data requests are opened in beforeAll, after the arbitraries are built: look them up when drawn.
const requestId = fc.oneof(fc.nat(3).map((i) => requestIds[i] ?? "none"), fc.uuid(), fc.constant(""));

/** Drops the keys whose value is undefined (an omitted variable or input field). */
const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const record = <T extends Record<string, fc.Arbitrary<unknown>>>(shape: T) => fc.record(shape).map(defined);

const evidence = mostly(record({ channel: mostly(unicode), formId: mostly(unicode), locale: mostly(unicode), ipAddress: mostly(unicode, fc.ipV4(), fc.ipV6()), userAgent: mostly(unicode) }));
const recordInput = record({
  subjectId: mostly(subjectId),
  policyId: mostly(policyId),
  policyVersion: mostly(fc.constantFrom(1, 1, 1, 2, 0, -1, 2 ** 31 - 1)),
  acceptPolicy: mostly(fc.boolean()),
  grant: mostly(purposes),
  withdraw: mostly(purposes),
  occurredAt: fc.oneof(fc.constant(undefined), mostly(date)),
  evidence,
  expectedVersion: mostly(fc.nat(6)),
  idempotencyKey: mostly(unicode, fc.constantFrom("k1", "k2")),
});
const shortText = fc.oneof(fc.string({ unit: "binary", maxLength: 24 }), fc.string({ unit: "grapheme", maxLength: 12 }), fc.constantFrom("\ud800", "a\udfffb", "‮", "🏳️‍🌈"));
/** A recordConsent input that is right in form (odd text, real purposes), so it reaches the ledger's rules. */
const wellFormedRecord = record({
  subjectId: fc.option(fc.constantFrom(...subjects), { nil: undefined }),
  policyVersion: fc.constant(1),
  acceptPolicy: fc.boolean(),
  grant: fc.uniqueArray(fc.constantFrom("location", "linked-accounts"), { maxLength: 2 }),
  withdraw: fc.uniqueArray(fc.constantFrom("third-party-provision", "access-analytics", "support"), { maxLength: 2 }),
  occurredAt: fc.option(fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date(Date.now() + 120_000), noInvalidDate: true }).map((d) => d.toISOString()), { nil: undefined }),
  evidence: fc.option(record({ channel: fc.option(shortText, { nil: undefined }), ipAddress: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), shortText), { nil: undefined }), userAgent: fc.option(shortText, { nil: undefined }) }), { nil: undefined }),
  expectedVersion: fc.option(fc.nat(3), { nil: undefined, freq: 2 }),
  idempotencyKey: fc.option(fc.oneof(fc.constantFrom("k1", "k2"), shortText), { nil: undefined }),
});
const wellFormedPublish = record({
  policyId: fc.constantFrom("fuzz-policy", "fuzz-policy-2"),
  title: shortText,
  overrides: fc.option(fc.constantFrom("clavis-privacy", "fuzz-policy", "fuzz-policy-2"), { nil: undefined }),
  effectiveAt: fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2030-01-01T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString()),
  requiresConsent: fc.boolean(),
  documentDigest: fc.oneof({ weight: 5, arbitrary: fc.stringMatching(/^[0-9a-f]{64}$/) }, { weight: 1, arbitrary: fc.constantFrom(`sha256:${"a".repeat(64)}`, "A".repeat(64)) }),
  changeSummary: fc.option(shortText, { nil: undefined }),
  purposes: fc.uniqueArray(
    record({
      id: fc.constantFrom("p-a", "p-b", "location", "p-c"),
      title: shortText,
      mode: fc.constantFrom("OPT_IN", "OPT_OUT", "REQUIRED"),
      basis: fc.constantFrom("CONSENT", "CONTRACT", "LEGAL_OBLIGATION", "LEGITIMATE_INTEREST"),
      dataCategories: fc.uniqueArray(fc.oneof({ weight: 5, arbitrary: fc.constantFrom("contact", "cookie", "access-log") }, { weight: 1, arbitrary: shortText }), { maxLength: 2 }),
      consentTtlDays: fc.option(fc.oneof(fc.integer({ min: -2, max: 400 }), fc.constant(2 ** 31 - 1)), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 3, selector: (p) => p["id"] },
  ),
});
const purposeInput = record({
  id: mostly(purposeId, unicode),
  title: mostly(unicode),
  description: mostly(unicode),
  mode: mostly(fc.constantFrom("OPT_IN", "OPT_OUT", "REQUIRED", "opt_in")),
  basis: mostly(fc.constantFrom("CONSENT", "CONTRACT", "LEGAL_OBLIGATION", "LEGITIMATE_INTEREST", "VITAL_INTEREST", "PUBLIC_TASK")),
  dataCategories: mostly(fc.array(unicode, { maxLength: 3 }), hugeList),
  recipients: mostly(fc.array(record({ id: mostly(unicode), name: mostly(unicode), kind: mostly(fc.constantFrom("PROCESSOR", "THIRD_PARTY", "EXTERNAL_MODULE")), country: mostly(unicode), privacyPolicyUrl: mostly(unicode) }), { maxLength: 2 })),
  consentTtlDays: mostly(number),
});
const publishInput = record({
  policyId: mostly(policyId, unicode),
  title: mostly(unicode),
  overrides: mostly(policyId),
  effectiveAt: mostly(date),
  requiresConsent: mostly(fc.boolean()),
  documentUrl: mostly(unicode, fc.webUrl()),
  documentDigest: mostly(fc.constantFrom(`sha256:${"a".repeat(64)}`, "a".repeat(64)), unicode),
  changeSummary: mostly(unicode),
  purposes: mostly(fc.array(purposeInput, { maxLength: 3 }), hugeList),
});

interface Case {
  name: string;
  query: string;
  vars: fc.Arbitrary<Record<string, unknown>>;
}

const MUTATIONS: Case[] = [
  { name: "recordConsent", query: RECORD, vars: record({ input: fc.oneof(wellFormedRecord, mostly(recordInput)) }) },
  { name: "publishPolicyVersion", query: `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { policyId number } }`, vars: record({ input: fc.oneof(wellFormedPublish, mostly(publishInput)) }) },
  { name: "suspendProcessing", query: `mutation($s: ID!, $r: String) { suspendProcessing(subjectId: $s, reason: $r) { id status version } }`, vars: record({ s: field(subjectId), r: field(unicode) }) },
  { name: "resumeProcessing", query: `mutation($s: ID!) { resumeProcessing(subjectId: $s) { id status version } }`, vars: record({ s: field(subjectId) }) },
  { name: "leaveService", query: `mutation($s: ID) { leaveService(subjectId: $s) { id status } }`, vars: record({ s: field(subjectId) }) },
  { name: "eraseSubject", query: `mutation($s: ID!, $r: String) { eraseSubject(subjectId: $s, reason: $r) { id status } }`, vars: record({ s: field(subjectId), r: field(unicode) }) },
  {
    name: "openDataRequest",
    query: `mutation($input: OpenDataRequestInput!) { openDataRequest(input: $input) { id status dueAt } }`,
    vars: record({ input: field(record({ subjectId: field(subjectId), kind: field(fc.constantFrom("DISCLOSURE", "CORRECTION", "DELETION", "SUSPENSION")), note: field(unicode) })) }),
  },
  { name: "verifyDataRequestIdentity", query: `mutation($id: ID!, $m: String!) { verifyDataRequestIdentity(id: $id, method: $m) { id status } }`, vars: record({ id: field(requestId), m: field(unicode) }) },
  { name: "closeDataRequest", query: `mutation($id: ID!, $f: Boolean!, $n: String) { closeDataRequest(id: $id, fulfilled: $f, note: $n) { id status } }`, vars: record({ id: field(requestId), f: field(fc.boolean()), n: field(unicode) }) },
];

const QUERIES: Case[] = [
  { name: "permission", query: `query($s: ID!, $p: ID!, $pol: ID, $at: DateTime) { permission(subjectId: $s, purposeId: $p, policyId: $pol, at: $at) { permitted reason } }`, vars: record({ s: field(subjectId), p: field(purposeId), pol: field(policyId), at: field(date) }) },
  {
    name: "permissions",
    query: `query($c: [PermissionCheckInput!]!) { permissions(checks: $c) { permitted reason } }`,
    vars: record({ c: field(fc.array(record({ subjectId: field(subjectId), purposeId: field(purposeId), policyId: field(policyId) }), { maxLength: 5 }), hugeList) }),
  },
  {
    name: "subject",
    query: `query($s: ID!, $pol: ID, $at: DateTime, $k: DateTime, $f: Int, $a: String, $t: [String!]) { subject(id: $s) { version consents(policyId: $pol, at: $at, knownAt: $k) { status } policyStandings(at: $at, knownAt: $k) { needsReconsent } history(first: $f, after: $a, types: $t) { edges { cursor } } } }`,
    vars: record({ s: field(subjectId), pol: field(policyId), at: field(date), k: field(date), f: field(number), a: field(unicode, fc.constantFrom("0000000000000001", "9999999999999999")), t: field(fc.array(unicode, { maxLength: 3 }), hugeList) }),
  },
  {
    name: "events",
    query: `query($f: Int, $a: String, $t: [String!], $s: ID) { events(first: $f, after: $a, types: $t, subjectId: $s) { edges { cursor } pageInfo { hasNextPage } } }`,
    vars: record({ f: field(fc.integer({ min: -5, max: 60 }), number), a: field(unicode, fc.constantFrom("0000000000000002", "-1", "1e3")), t: field(fc.array(unicode, { maxLength: 3 })), s: field(subjectId) }),
  },
  { name: "reconsentPending", query: `query($p: ID!, $f: Int, $a: String) { reconsentPending(policyId: $p, first: $f, after: $a) }`, vars: record({ p: field(policyId), f: field(number), a: field(unicode) }) },
];

/** Sends one generated call; asserts a client error code or a success, and that an error appended nothing. */
async function probe(c: Case, vars: Record<string, unknown>): Promise<void> {
  const before = (await integrity(srv.url, admin)).eventCount;
  let r: Answer<unknown>;
  try {
    r = await post(srv.url, c.query, vars, admin);
  } catch (e) {
    throw new Error(`${c.name}: no answer (${e instanceof Error ? e.message : String(e)})`);
  }
  const context = `${c.name} ${r.status} ${JSON.stringify(r.errors)?.slice(0, 500)}`;
  expect(r.status, context).toBeLessThan(500);
  if (r.errors) {
    for (const e of r.errors) expect(CLIENT_CODES.has(String(e.extensions?.code)), context).toBe(true);
    const after = await integrity(srv.url, admin);
    expect(after.eventCount, `${context}: an error appended events`).toBe(before);
  } else {
    expect(r.status, context).toBe(200);
    expect(r.data, context).toBeTruthy();
  }
}

describe("fuzzed variables on every mutation of the contract", () => {
  for (const c of MUTATIONS)
    it(`${c.name}: answers a client error or a success, never a server error, a hang or a partial append`, async () => {
      await fc.assert(fc.asyncProperty(c.vars, (vars) => probe(c, vars)), { numRuns: RUNS });
    });
});

describe("fuzzed variables on queries", () => {
  for (const c of QUERIES)
    it(`${c.name}: answers a client error or data, never a server error or a hang`, async () => {
      await fc.assert(fc.asyncProperty(c.vars, (vars) => probe(c, vars)), { numRuns: RUNS });
    });

  it("the chain is intact after all of it", async () => {
    expect(await integrity(srv.url, admin)).toMatchObject({ ok: true, firstInvalidPosition: null });
  });
});
