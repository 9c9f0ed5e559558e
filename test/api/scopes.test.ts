// Who may do what, through HTTP: each operation with and without its scope, without a token, and subjects kept apart.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCOPES, type Scope } from "../../src/auth/scopes.js";
import { type GqlResult, type TestServer, startTestServer } from "../support/harness.js";
import { BASE_POLICY, countEvents, freshId, iso, ok, onboard, recordConsent } from "./helpers.js";

let srv: TestServer;
let admin: string;
let auditor: string;

beforeAll(async () => {
  srv = await startTestServer();
  admin = await srv.token("officer", "subject:admin");
  auditor = await srv.token("auditor", "ledger:read");
});
afterAll(() => srv.close());

/** A data request about a fresh subject, opened by an officer. */
async function openRequest(kind = "DISCLOSURE"): Promise<string> {
  const r = ok(await srv.gql<{ openDataRequest: { id: string } }>(
    `mutation($s: ID!, $k: DataRequestKind!) { openDataRequest(input: { subjectId: $s, kind: $k }) { id } }`,
    { s: freshId(), k: kind },
    admin,
  ));
  return r.openDataRequest.id;
}

const digest = "a".repeat(64);

interface Op {
  name: string;
  /** Any one of these lets the caller do it to any subject; [] means any authenticated caller. */
  scopes: Scope[];
  run: (token: string | null) => Promise<GqlResult<unknown>>;
}

const q = (query: string, vars: () => Record<string, unknown> | Promise<Record<string, unknown>> = () => ({})) =>
  async (token: string | null) => srv.gql(query, await vars(), token);

const OPS: Op[] = [
  { name: "me", scopes: ["consent:self"], run: q(`{ me { id status version } }`) },
  { name: "subject", scopes: ["consent:read", "ledger:read", "subject:admin"], run: q(`query($id: ID!) { subject(id: $id) { id status version } }`, () => ({ id: freshId() })) },
  { name: "Subject.consents", scopes: ["consent:read", "ledger:read"], run: q(`query($id: ID!) { subject(id: $id) { consents { permitted reason } } }`, () => ({ id: freshId() })) },
  { name: "Subject.policyStandings", scopes: ["consent:read", "ledger:read"], run: q(`query($id: ID!) { subject(id: $id) { policyStandings { needsReconsent } } }`, () => ({ id: freshId() })) },
  { name: "Subject.history", scopes: ["ledger:read"], run: q(`query($id: ID!) { subject(id: $id) { history { edges { cursor } } } }`, () => ({ id: freshId() })) },
  { name: "Subject.dataRequests", scopes: ["subject:admin", "ledger:read"], run: q(`query($id: ID!) { subject(id: $id) { dataRequests { id } } }`, () => ({ id: freshId() })) },
  { name: "policies", scopes: [], run: q(`{ policies { id } }`) },
  { name: "policy", scopes: [], run: q(`{ policy(id: "${BASE_POLICY}") { id } }`) },
  { name: "permission", scopes: ["consent:read"], run: q(`query($s: ID!) { permission(subjectId: $s, purposeId: "location") { permitted } }`, () => ({ s: freshId() })) },
  { name: "permissions", scopes: ["consent:read"], run: q(`query($s: ID!) { permissions(checks: [{ subjectId: $s, purposeId: "location" }]) { permitted } }`, () => ({ s: freshId() })) },
  { name: "events", scopes: ["ledger:read"], run: q(`{ events(first: 1) { edges { cursor } } }`) },
  { name: "ledgerIntegrity", scopes: ["ledger:read"], run: q(`{ ledgerIntegrity { ok } }`) },
  { name: "ledgerHead", scopes: ["ledger:read"], run: q(`{ ledgerHead { hash jws } }`) },
  { name: "subjectExport", scopes: ["ledger:read"], run: q(`query($s: ID!) { subjectExport(subjectId: $s) }`, () => ({ s: freshId() })) },
  { name: "reconsentPending", scopes: ["ledger:read", "consent:read"], run: q(`{ reconsentPending(policyId: "${BASE_POLICY}") }`) },
  { name: "dataRequests", scopes: ["subject:admin", "ledger:read"], run: q(`{ dataRequests { id } }`) },
  {
    name: "recordConsent",
    scopes: ["consent:write"],
    run: q(`mutation($s: ID!) { recordConsent(input: { subjectId: $s, policyVersion: 1, acceptPolicy: true }) { receipt } }`, () => ({ s: freshId() })),
  },
  {
    name: "publishPolicyVersion",
    scopes: ["policy:write"],
    run: q(
      `mutation($p: ID!, $at: DateTime!, $d: String!) { publishPolicyVersion(input: {
        policyId: $p, title: "service terms", overrides: "${BASE_POLICY}", effectiveAt: $at, requiresConsent: false, documentDigest: $d,
        purposes: [{ id: "beta-features", title: "beta", mode: OPT_IN, basis: CONSENT, dataCategories: ["profile"] }] }) { number } }`,
      () => ({ p: freshId("policy"), at: iso(0), d: digest }),
    ),
  },
  { name: "suspendProcessing", scopes: ["subject:admin"], run: q(`mutation($s: ID!) { suspendProcessing(subjectId: $s) { status } }`, () => ({ s: freshId() })) },
  { name: "resumeProcessing", scopes: ["subject:admin"], run: q(`mutation($s: ID!) { resumeProcessing(subjectId: $s) { status } }`, () => ({ s: freshId() })) },
  { name: "leaveService", scopes: ["subject:admin"], run: q(`mutation($s: ID!) { leaveService(subjectId: $s) { status } }`, () => ({ s: freshId() })) },
  { name: "eraseSubject", scopes: ["subject:admin"], run: q(`mutation($s: ID!) { eraseSubject(subjectId: $s) { status } }`, () => ({ s: freshId() })) },
  {
    name: "openDataRequest",
    scopes: ["subject:admin"],
    run: q(`mutation($s: ID!) { openDataRequest(input: { subjectId: $s, kind: DISCLOSURE }) { id } }`, () => ({ s: freshId() })),
  },
  {
    name: "verifyDataRequestIdentity",
    scopes: ["subject:admin"],
    run: q(`mutation($id: ID!) { verifyDataRequestIdentity(id: $id, method: "passport") { status } }`, async () => ({ id: await openRequest() })),
  },
  {
    name: "closeDataRequest",
    scopes: ["subject:admin"],
    run: q(`mutation($id: ID!) { closeDataRequest(id: $id, fulfilled: false, note: "対象のデータがありません") { status } }`, async () => ({ id: await openRequest() })),
  },
];

describe("every operation refuses a request without a token as UNAUTHENTICATED", () => {
  it.each(OPS.map((o) => [o.name, o] as const))("%s", async (_name, op) => {
    const r = await op.run(null);
    expect(r.code).toBe("UNAUTHENTICATED");
    expect(r.status).toBe(401);
    expect(r.data ?? null).toBeNull();
  });
});

describe("every operation works with each scope that grants it", () => {
  const rows: [string, string, Op][] = OPS.flatMap((o) => (o.scopes.length === 0 ? [[o.name, "(any token)", o]] : o.scopes.map((s): [string, string, Op] => [o.name, s, o])));
  it.each(rows)("%s with %s", async (_name, scope, op) => {
    const token = await srv.token(freshId("caller"), scope === "(any token)" ? "" : scope);
    const r = await op.run(token);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    expect(r.status).toBe(200);
  });
});

describe("every scoped operation is FORBIDDEN to a valid token lacking its scope", () => {
  const rows = OPS.filter((o) => o.scopes.length > 0).map((o) => [o.name, o] as const);
  it.each(rows)("%s with every other scope", async (_name, op) => {
    const others = SCOPES.filter((s) => !op.scopes.includes(s));
    const r = await op.run(await srv.token(freshId("caller"), others.join(" ")));
    expect(r.code, JSON.stringify(r.errors)).toBe("FORBIDDEN");
  });
  it.each(rows)("%s with no scope at all", async (_name, op) => {
    const r = await op.run(await srv.token(freshId("caller"), ""));
    expect(r.code, JSON.stringify(r.errors)).toBe("FORBIDDEN");
  });
});

describe("a subject with consent:self", () => {
  it("reads and records its own consent, its history and its export, and leaves by itself", async () => {
    const me = freshId();
    const token = await srv.token(me, "consent:self");
    ok(await recordConsent(srv, token, { subjectId: me, policyVersion: 1, acceptPolicy: true, grant: ["location"] }));
    const read = ok(await srv.gql<{ me: { id: string; consents: { purpose: { id: string }; permitted: boolean }[]; history: { edges: unknown[] } }; subject: { id: string } }>(
      `query($id: ID!) { me { id consents { purpose { id } permitted } history { edges { cursor } } } subject(id: $id) { id } }`,
      { id: me },
      token,
    ));
    expect(read.me.id).toBe(me);
    expect(read.subject.id).toBe(me);
    expect(read.me.consents.find((c) => c.purpose.id === "location")?.permitted).toBe(true);
    expect(read.me.history.edges).toHaveLength(2);
    ok(await srv.gql(`query($id: ID!) { permission(subjectId: $id, purposeId: "location") { permitted } subjectExport(subjectId: $id) }`, { id: me }, token));
    ok(await srv.gql(`mutation { openDataRequest(input: { kind: DISCLOSURE }) { id } }`, {}, token));
    const left = ok(await srv.gql<{ leaveService: { status: string } }>(`mutation { leaveService { status } }`, {}, token));
    expect(left.leaveService.status).toBe("LEFT");
  });

  describe("is FORBIDDEN to touch another subject, and learns nothing about it", () => {
    let other: string;
    const secretIp = "198.51.100.77";
    const secretAgent = "OtherSubjectBrowser/9.9";
    beforeAll(async () => {
      other = freshId("other");
      const t = await srv.token(other, "consent:self");
      ok(await recordConsent(srv, t, { policyVersion: 1, acceptPolicy: true, grant: ["location"], evidence: { ipAddress: secretIp, userAgent: secretAgent } }));
    });

    const attempts: [string, string, (other: string) => Record<string, unknown>][] = [
      ["subject", `query($o: ID!) { subject(id: $o) { id status consents { reason } } }`, (o) => ({ o })],
      ["permission", `query($o: ID!) { permission(subjectId: $o, purposeId: "location") { permitted reason } }`, (o) => ({ o })],
      ["permissions", `query($o: ID!) { permissions(checks: [{ subjectId: $o, purposeId: "location" }]) { permitted } }`, (o) => ({ o })],
      ["subjectExport", `query($o: ID!) { subjectExport(subjectId: $o) }`, (o) => ({ o })],
      ["recordConsent", `mutation($o: ID!) { recordConsent(input: { subjectId: $o, policyVersion: 1, withdraw: ["location"] }) { receipt } }`, (o) => ({ o })],
      ["leaveService", `mutation($o: ID!) { leaveService(subjectId: $o) { status } }`, (o) => ({ o })],
      ["openDataRequest", `mutation($o: ID!) { openDataRequest(input: { subjectId: $o, kind: DELETION }) { id } }`, (o) => ({ o })],
      ["suspendProcessing", `mutation($o: ID!) { suspendProcessing(subjectId: $o) { status } }`, (o) => ({ o })],
      ["eraseSubject", `mutation($o: ID!) { eraseSubject(subjectId: $o) { status } }`, (o) => ({ o })],
    ];
    it.each(attempts)("%s", async (_name, query, vars) => {
      const me = freshId();
      const token = await srv.token(me, "consent:self");
      const before = await countEvents(srv, auditor);
      const r = await srv.gql(query, vars(other), token);
      expect(r.code).toBe("FORBIDDEN");
      expect(r.data ?? null).toBeNull();
      const body = JSON.stringify(r.errors);
      for (const secret of [other, secretIp, secretAgent, "GRANTED", "permitted"]) expect(body).not.toContain(secret);
      expect(await countEvents(srv, auditor)).toBe(before);
    });

    it("the refusal reads the same whether or not the other subject exists", async () => {
      const token = await srv.token(freshId(), "consent:self");
      const known = await srv.gql(`query($o: ID!) { subject(id: $o) { id } }`, { o: other }, token);
      const unknown = await srv.gql(`query($o: ID!) { subject(id: $o) { id } }`, { o: freshId("nobody") }, token);
      expect(known.errors![0]!.message).toBe(unknown.errors![0]!.message);
      expect(known.errors![0]!.extensions).toEqual(unknown.errors![0]!.extensions);
    });

    it("its own state is unchanged by the refused attempts", async () => {
      const r = ok(await srv.gql<{ permission: { permitted: boolean } }>(
        `query($o: ID!) { permission(subjectId: $o, purposeId: "location") { permitted } }`,
        { o: other },
        await srv.token("svc", "consent:read"),
      ));
      expect(r.permission.permitted).toBe(true);
    });
  });

  it("may not set occurredAt (only consent:write may back-date), and nothing is appended", async () => {
    const me = freshId();
    const token = await srv.token(me, "consent:self");
    const before = await countEvents(srv, auditor);
    const r = await recordConsent(srv, token, { policyVersion: 1, acceptPolicy: true, occurredAt: iso(-3_600_000) });
    expect(r.code).toBe("FORBIDDEN");
    expect(r.errors![0]!.message).toContain("occurredAt");
    expect(await countEvents(srv, auditor)).toBe(before);
    // consent:write may, for the same subject.
    const w = ok(await recordConsent(srv, await srv.token("importer", "consent:write"), { subjectId: me, policyVersion: 1, acceptPolicy: true, occurredAt: iso(-3_600_000) }));
    expect(Date.parse(w.recordConsent.events[0]!.occurredAt)).toBeLessThan(Date.now() - 3_000_000);
  });

  it("may not suspend or erase itself: those are subject:admin's", async () => {
    const me = freshId();
    await onboard(srv, me);
    const token = await srv.token(me, "consent:self");
    expect((await srv.gql(`mutation($s: ID!) { suspendProcessing(subjectId: $s) { status } }`, { s: me }, token)).code).toBe("FORBIDDEN");
    expect((await srv.gql(`mutation($s: ID!) { eraseSubject(subjectId: $s) { status } }`, { s: me }, token)).code).toBe("FORBIDDEN");
  });

  it("records the caller as the actor: SUBJECT for oneself, SERVICE for consent:write, OFFICER for subject:admin", async () => {
    const me = freshId();
    const self = await onboard(srv, me);
    const service = ok(await recordConsent(srv, await srv.token("crm", "consent:write"), { subjectId: me, policyVersion: 1, grant: ["location"] }));
    ok(await srv.gql(`mutation($s: ID!) { suspendProcessing(subjectId: $s) { status } }`, { s: me }, admin));
    const hist = ok(await srv.gql<{ subject: { history: { edges: { node: { type: string; actor: { kind: string; id: string } } }[] } } }>(
      `query($s: ID!) { subject(id: $s) { history { edges { node { type actor { kind id } } } } } }`,
      { s: me },
      auditor,
    ));
    expect(self.events).toHaveLength(1);
    expect(service.recordConsent.events).toHaveLength(1);
    expect(hist.subject.history.edges.map((e) => [e.node.type, e.node.actor.kind, e.node.actor.id])).toEqual([
      ["PolicyAccepted", "SUBJECT", me],
      ["ConsentGranted", "SERVICE", "crm"],
      ["ProcessingSuspended", "OFFICER", "officer"],
    ]);
  });
});

describe("scopes are read from `scope` (space separated) and `scp` (array)", () => {
  it("a token carrying scp: [ledger:read] may read the feed", async () => {
    const { SignJWT, importJWK } = await import("jose");
    const { ensureDevAuthKey } = await import("../../src/auth/dev-keys.js");
    const key = await ensureDevAuthKey(srv.dataDir);
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ scp: ["ledger:read"] })
      .setProtectedHeader({ alg: "ES256", kid: key.kid })
      .setIssuer(srv.config.auth.issuer!)
      .setAudience(srv.config.auth.audience!)
      .setSubject("scp-caller")
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(await importJWK(key.privateJwk, "ES256"));
    ok(await srv.gql(`{ ledgerIntegrity { ok } }`, {}, token));
  });
});
