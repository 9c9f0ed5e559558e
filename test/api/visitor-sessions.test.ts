// POST /visitor-session: visitor tokens signed by the service, scope consent:visitor, acting on the visitor only.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT, importJWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDevAuthKey } from "../../src/auth/dev-keys.js";
import { VISITOR_ISSUER, visitorKeyPath } from "../../src/auth/visitor-sessions.js";
import { makeTempDir } from "../support/common.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshId, ok, recordConsent } from "./helpers.js";

const SITE = "https://shop.example.jp";

interface Session {
  subjectId: string;
  token: string;
  expiresAt: string;
  gpc: boolean;
}

const base = (srv: TestServer) => srv.url.replace(/\/graphql$/, "");
const open = (srv: TestServer, headers: Record<string, string> = {}) => fetch(`${base(srv)}/visitor-session`, { method: "POST", headers });
async function session(srv: TestServer, headers: Record<string, string> = {}): Promise<Session> {
  const res = await open(srv, headers);
  expect(res.status).toBe(200);
  return (await res.json()) as Session;
}

const ME = `query { me { id consents { purpose { id } status permitted } history(first: 20) { edges { node { type data } } } } }`;
interface Me {
  me: { id: string; consents: { purpose: { id: string }; status: string; permitted: boolean }[]; history: { edges: { node: { type: string; data: Record<string, unknown> } }[] } };
}
const stateOf = (me: Me["me"], purposeId: string) => me.consents.find((c) => c.purpose.id === purposeId)!;

describe("visitor sessions", () => {
  let srv: TestServer;
  // A fixed clock: the rate limit's minute never turns over in the middle of a test.
  const clock = () => Date.parse("2026-12-06T12:00:30Z");
  beforeAll(async () => {
    srv = await startTestServer({ clock, env: { CORS_ORIGINS: SITE, VISITOR_SESSIONS_PER_MINUTE: "1000" } });
  });
  afterAll(() => srv.close());

  it("answers a new visitor id, a token and its expiry; the token reads and records for that visitor", async () => {
    const s = await session(srv, { origin: SITE });
    expect(s.subjectId).toMatch(/^visitor:[A-Za-z0-9_-]{22}$/);
    expect(Date.parse(s.expiresAt)).toBeGreaterThan(clock());
    expect(s.gpc).toBe(false);
    expect((await session(srv)).subjectId).not.toBe(s.subjectId);

    ok(await recordConsent(srv, s.token, { policyVersion: 1, acceptPolicy: true, withdraw: ["external-analytics"], evidence: { channel: "banner", signal: "GPC" } }));
    const me = ok(await srv.gql<Me>(ME, {}, s.token)).me;
    expect(me.id).toBe(s.subjectId);
    expect(stateOf(me, "external-analytics")).toMatchObject({ status: "WITHDRAWN", permitted: false });
    expect(stateOf(me, "access-analytics").permitted).toBe(true);
    const withdrawn = me.history.edges.map((e) => e.node).find((n) => n.type === "ConsentWithdrawn")!;
    expect((withdrawn.data["evidence"] as Record<string, unknown>)["signal"]).toBe("GPC");
  });

  it("is valid only for itself and only for me, recordConsent, recordNoticeShown and consentChanged", async () => {
    const s = await session(srv);
    const other = freshId("acct");
    const r = await recordConsent(srv, s.token, { subjectId: other, policyVersion: 1, acceptPolicy: true });
    expect(r.code).toBe("FORBIDDEN");
    for (const q of [
      `{ permission(subjectId: "${s.subjectId}", purposeId: "external-analytics") { permitted } }`,
      `{ policies { id } }`,
      `{ subjectExport(subjectId: "${s.subjectId}") }`,
      `mutation { leaveService { id } }`,
      `{ ...F } fragment F on Query { me { id } }`,
    ]) {
      const res = await srv.gql(q, {}, s.token);
      expect(res.code, q).toBe("FORBIDDEN");
    }
    // Nothing was appended for the other subject.
    const admin = await srv.token("auditor", "ledger:read");
    const subj = await srv.gql<{ subject: { version: number } | null }>(`query($id: ID!) { subject(id: $id) { version } }`, { id: other }, admin);
    expect(subj.data?.subject?.version ?? 0).toBe(0);
  });

  it("renews the token of a visitor that presents its own, and says when the browser sent Sec-GPC: 1", async () => {
    const s = await session(srv);
    const renewed = await session(srv, { authorization: `Bearer ${s.token}`, "sec-gpc": "1" });
    expect(renewed.subjectId).toBe(s.subjectId);
    expect(renewed.gpc).toBe(true);
  });

  it("opens sessions for CORS_ORIGINS and the service's own origin only", async () => {
    const allowed = await open(srv, { origin: SITE });
    expect(allowed.headers.get("access-control-allow-origin")).toBe(SITE);
    expect((await open(srv, { origin: base(srv) })).status).toBe(200);
    const refused = await open(srv, { origin: "https://evil.example" });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe("FORBIDDEN");
    const preflight = await fetch(`${base(srv)}/visitor-session`, { method: "OPTIONS", headers: { origin: SITE, "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(204);
    expect((await fetch(`${base(srv)}/visitor-session`, { headers: { origin: SITE } })).status).toBe(405);
  });

  it("is signed by a key of its own under the data folder: a visitor-issuer token signed with another key is refused", async () => {
    expect(existsSync(visitorKeyPath(srv.dataDir))).toBe(true);
    const key = JSON.parse(readFileSync(visitorKeyPath(srv.dataDir), "utf8")) as { x: string };
    for (const f of ["keys/dev-auth.jwk.json"]) expect(readFileSync(join(srv.dataDir, f), "utf8")).not.toContain(key.x);
    const dev = await ensureDevAuthKey(srv.dataDir);
    const forged = await new SignJWT({ scope: "consent:visitor" })
      .setProtectedHeader({ alg: "ES256", kid: dev.kid })
      .setIssuer(VISITOR_ISSUER)
      .setAudience(VISITOR_ISSUER)
      .setSubject("visitor:AAAAAAAAAAAAAAAAAAAAAA")
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(await importJWK(dev.privateJwk, "ES256"));
    expect((await srv.gql(`{ me { id } }`, {}, forged)).code).toBe("UNAUTHENTICATED");
  });

  it("carries a visitor's choices into an account with mergeSubjects", async () => {
    const s = await session(srv);
    ok(await recordConsent(srv, s.token, { policyVersion: 1, acceptPolicy: true, withdraw: ["external-analytics"], grant: ["location"] }));
    const account = freshId("acct");
    ok(await recordConsent(srv, await srv.token(account, "consent:self"), { policyVersion: 1, acceptPolicy: true }));
    const backend = await srv.token("signin-service", "consent:write");
    ok(await srv.gql(`mutation($from: ID!, $into: ID!) { mergeSubjects(from: $from, into: $into) { id } }`, { from: s.subjectId, into: account }, backend));
    const me = ok(await srv.gql<Me>(ME, {}, await srv.token(account, "consent:self"))).me;
    expect(stateOf(me, "external-analytics")).toMatchObject({ status: "WITHDRAWN", permitted: false });
    expect(stateOf(me, "location")).toMatchObject({ status: "GRANTED", permitted: true });
  });
});

describe("visitor sessions: limits and the switch", () => {
  it("refuses an address beyond VISITOR_SESSIONS_PER_MINUTE with TOO_MANY_REQUESTS", async () => {
    const clock = () => Date.parse("2026-12-06T12:00:30Z");
    const srv = await startTestServer({ clock, env: { VISITOR_SESSIONS_PER_MINUTE: "2" } });
    try {
      expect((await open(srv)).status).toBe(200);
      expect((await open(srv)).status).toBe(200);
      const third = await open(srv);
      expect(third.status).toBe(429);
      expect(third.headers.get("retry-after")).toBe("60");
    } finally {
      await srv.close();
    }
  });

  it("VISITOR_SESSIONS=false answers 404 and refuses visitor tokens issued before", async () => {
    const dataDir = makeTempDir();
    const on = await startTestServer({ dataDir });
    const s = await session(on);
    expect(ok(await on.gql<{ me: { id: string } }>(`{ me { id } }`, {}, s.token)).me.id).toBe(s.subjectId);
    await on.close();
    const off = await startTestServer({ dataDir, env: { VISITOR_SESSIONS: "false" } });
    try {
      expect((await open(off)).status).toBe(404);
      expect((await off.gql(`{ me { id } }`, {}, s.token)).code).toBe("UNAUTHENTICATED");
    } finally {
      await off.close();
    }
  });
});
