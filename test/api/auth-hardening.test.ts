// Issue 14 over HTTP: token rules (typ, lifetime, iat, scope splitting), actor and subject ids,
// the past bound on occurredAt, and the data-request quota and paged queue.
import { SignJWT, importJWK } from "jose";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevAuthKey, ensureDevAuthKey } from "../../src/auth/dev-keys.js";
import { DAY_MS } from "../../src/domain/time.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { countEvents, freshId, iso, ok, recordConsent } from "./helpers.js";
import { makeTempDir } from "../support/common.js";

let srv: TestServer;
let key: DevAuthKey;
let ledgerToken: string;

beforeAll(async () => {
  srv = await startTestServer();
  key = await ensureDevAuthKey(srv.dataDir);
  ledgerToken = await srv.token("auditor", "ledger:read");
});
afterAll(() => srv.close());

const nowS = () => Math.floor(Date.now() / 1000);
const HOUR = 3600;

interface Forge {
  sub?: string;
  scope?: string;
  typ?: string | null;
  iat?: number | null;
  exp?: number;
}

/** A token signed with the server's real dev key, so only the rule under test can refuse it. */
async function forge(f: Forge = {}): Promise<string> {
  const header: { alg: string; kid: string; typ?: string } = { alg: "ES256", kid: key.kid };
  if (f.typ !== null) header.typ = f.typ ?? "JWT";
  const jwt = new SignJWT({ scope: f.scope ?? "consent:self ledger:read" })
    .setProtectedHeader(header)
    .setIssuer(srv.config.auth.issuer!)
    .setAudience(srv.config.auth.audience!)
    .setSubject(f.sub ?? "mallory")
    .setExpirationTime(f.exp ?? nowS() + 600);
  if (f.iat !== null) jwt.setIssuedAt(f.iat ?? nowS());
  return jwt.sign(await importJWK(key.privateJwk, "ES256"));
}

const EVENTS = `{ events(first: 1) { edges { cursor } } }`;

async function accepted(token: string): Promise<void> {
  const r = await srv.gql(EVENTS, {}, token);
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
}

async function unauthenticated(token: string): Promise<void> {
  const r = await srv.gql(EVENTS, {}, token);
  expect(r.status).toBe(401);
  expect(r.code).toBe("UNAUTHENTICATED");
}

describe("finding 10: JWT typ, lifetime, iat and scope splitting", () => {
  it("accepts typ JWT and at+jwt (with or without application/, any case) and a token without typ", async () => {
    for (const typ of ["JWT", "jwt", "at+jwt", "application/at+jwt", "AT+JWT"]) await accepted(await forge({ typ }));
    await accepted(await forge({ typ: null }));
  });

  it("refuses a token whose typ says it is something else", async () => {
    for (const typ of ["dpop+jwt", "logout+jwt", "secevent+jwt", "JOSE", "id_token"]) await unauthenticated(await forge({ typ }));
  });

  it("refuses a lifetime above AUTH_MAX_TOKEN_AGE_SECONDS (24 h by default): exp in 9999, or 25 h", async () => {
    await unauthenticated(await forge({ exp: Date.UTC(9999, 0, 1) / 1000 }));
    await unauthenticated(await forge({ exp: nowS() + 25 * HOUR }));
    // An old iat with a near exp is a long lifetime too.
    await unauthenticated(await forge({ iat: nowS() - 30 * HOUR, exp: nowS() + 60 }));
    await accepted(await forge({ exp: nowS() + 23 * HOUR }));
  });

  it("without iat, measures the lifetime from now", async () => {
    await unauthenticated(await forge({ iat: null, exp: nowS() + 25 * HOUR }));
    await accepted(await forge({ iat: null, exp: nowS() + HOUR }));
  });

  it("refuses an iat in the future beyond the clock tolerance, accepts one within it", async () => {
    await unauthenticated(await forge({ iat: nowS() + 10 * 60, exp: nowS() + HOUR }));
    await accepted(await forge({ iat: nowS() + 10, exp: nowS() + HOUR }));
  });

  it("splits scopes on ASCII space only: other whitespace grants nothing", async () => {
    const PERMISSION = `{ permission(subjectId: "someone", purposeId: "location") { permitted } }`;
    for (const sep of ["\u3000", "\u00a0", "\n", "\t", "\u2003"]) {
      const t = await forge({ scope: `consent:self${sep}consent:read` });
      const r = await srv.gql(PERMISSION, {}, t);
      expect(r.code, JSON.stringify(sep)).toBe("FORBIDDEN");
      expect((await srv.gql(`{ me { id } }`, {}, t)).code).toBe("FORBIDDEN");
    }
    const good = await forge({ scope: "consent:self  consent:read" });
    expect((await srv.gql(PERMISSION, {}, good)).errors).toBeUndefined();
  });
});

describe("finding 11: actor and subject ids", () => {
  it("refuses a token whose sub has control or bidi characters, or is too long", async () => {
    const bad = ["officer\u0000", "officer\u202eevil", "a\nb", "zero\u200bwidth", "with space", "x".repeat(256), `${"A".repeat(3_000)}\u0000\u202e\n`];
    for (const sub of bad) await unauthenticated(await forge({ sub, scope: "ledger:read" }));
    const before = await countEvents(srv, ledgerToken);
    const w = await forge({ sub: "imp\u202eorter", scope: "consent:write" });
    const r = await recordConsent(srv, w, { subjectId: freshId(), policyVersion: 1, acceptPolicy: true });
    expect(r.code).toBe("UNAUTHENTICATED");
    expect(await countEvents(srv, ledgerToken)).toBe(before);
  });

  it("accepts the sub shapes identity providers use", async () => {
    for (const sub of ["auth0|5f7c8ec7c33c6c004bbafe82", "client-42@clients", "00u1a2b3c4D5e6F7g8h9", "4f1c2b8e-8d6a-4c2e-9b1f-0a2b3c4d5e6f", "ユーザー1"])
      await accepted(await forge({ sub, scope: "ledger:read" }));
  });

  it("refuses a new subject id shaped like an email address or a phone number, appending nothing", async () => {
    const writer = await srv.token("importer", "consent:write");
    const admin = await srv.token("officer", "subject:admin");
    const before = await countEvents(srv, ledgerToken);
    for (const id of ["hana.sato@example.co.jp", "090-1234-5678", "0312345678", "00819012345678"]) {
      const r = await recordConsent(srv, writer, { subjectId: id, policyVersion: 1, acceptPolicy: true });
      expect(r.code, id).toBe("BAD_USER_INPUT");
      expect(r.errors![0]!.message).toMatch(/pseudonymous/);
      const s = await srv.gql(`mutation($s: ID!) { suspendProcessing(subjectId: $s) { id } }`, { s: id }, admin);
      expect(s.code, id).toBe("BAD_USER_INPUT");
    }
    // A self-service caller whose sub is an email address cannot start a record either.
    const self = await srv.token("mei@example.com", "consent:self");
    expect((await recordConsent(srv, self, { policyVersion: 1, acceptPolicy: true })).code).toBe("BAD_USER_INPUT");
    expect(await countEvents(srv, ledgerToken)).toBe(before);
    // Pseudonymous shapes pass: numeric ids without a trunk 0, UUIDs, ids with @ but no domain.
    for (const id of ["12345678901", freshId("u"), "tenant@clients"]) ok(await recordConsent(srv, writer, { subjectId: id, policyVersion: 1, acceptPolicy: true }));
  });

  it("with ALLOW_IDENTIFYING_SUBJECT_IDS=true accepts them; without it, such a subject already in the ledger can still be erased", async () => {
    const dataDir = makeTempDir("ledger-ids-");
    try {
      const email = "hana.sato@example.co.jp";
      const allowing = await startTestServer({ dataDir, env: { ALLOW_IDENTIFYING_SUBJECT_IDS: "true" } });
      try {
        ok(await recordConsent(allowing, await allowing.token("importer", "consent:write"), { subjectId: email, policyVersion: 1, acceptPolicy: true }));
      } finally {
        await allowing.close();
      }
      const strict = await startTestServer({ dataDir });
      try {
        const r = await strict.gql<{ eraseSubject: { status: string } }>(
          `mutation($s: ID!) { eraseSubject(subjectId: $s) { status } }`,
          { s: email },
          await strict.token("officer", "subject:admin"),
        );
        expect(ok(r).eraseSubject.status).toBe("ERASED");
      } finally {
        await strict.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("finding 12: occurredAt bounded in the past", () => {
  // The seed's version 1 took effect on 2023-06-16 (JST) and is published when the server starts.
  const EFFECTIVE = Date.parse("2023-06-16T00:00:00+09:00");

  it("refuses year 0001 and any instant before the version took effect or was published, appending nothing", async () => {
    const writer = await srv.token("importer", "consent:write");
    const before = await countEvents(srv, ledgerToken);
    for (const occurredAt of ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", new Date(EFFECTIVE - 1).toISOString()]) {
      const r = await recordConsent(srv, writer, { subjectId: freshId(), policyVersion: 1, acceptPolicy: true, occurredAt });
      expect(r.code, occurredAt).toBe("BAD_USER_INPUT");
      expect(r.errors![0]!.message).toMatch(/occurredAt lies before version 1 of clavis-privacy/);
    }
    expect(await countEvents(srv, ledgerToken)).toBe(before);
  });

  it("accepts an import dated after the version took effect, long before it was published here", async () => {
    const writer = await srv.token("importer", "consent:write");
    const occurredAt = new Date(EFFECTIVE + DAY_MS).toISOString();
    const r = ok(await recordConsent(srv, writer, { subjectId: freshId(), policyVersion: 1, acceptPolicy: true, grant: ["location"], occurredAt }));
    expect(r.recordConsent.events[0]!.occurredAt).toBe(occurredAt);
    ok(await recordConsent(srv, writer, { subjectId: freshId(), policyVersion: 1, acceptPolicy: true, occurredAt: iso(-60_000) }));
  });

  it("refuses an instant before OCCURRED_AT_FLOOR even when the version allows it", async () => {
    const floored = await startTestServer({ env: { OCCURRED_AT_FLOOR: "2024-01-01T00:00:00Z" } });
    try {
      const writer = await floored.token("importer", "consent:write");
      const r = await recordConsent(floored, writer, { subjectId: freshId(), policyVersion: 1, acceptPolicy: true, occurredAt: "2023-12-31T23:59:59Z" });
      expect(r.code).toBe("BAD_USER_INPUT");
      expect(r.errors![0]!.message).toMatch(/earliest instant this ledger accepts \(2024-01-01T00:00:00.000Z\)/);
      ok(await recordConsent(floored, writer, { subjectId: freshId(), policyVersion: 1, acceptPolicy: true, occurredAt: "2024-01-01T00:00:00Z" }));
    } finally {
      await floored.close();
    }
  });
});

describe("finding 8: data-request quota and the paged queue", () => {
  const OPEN = `mutation($input: OpenDataRequestInput!) { openDataRequest(input: $input) { id status } }`;
  const CLOSE = `mutation($id: ID!) { closeDataRequest(id: $id, fulfilled: false, note: "duplicate") { id status } }`;

  it("refuses a sixth open request from one subject with TOO_MANY_OPEN_REQUESTS; closing one frees a place", async () => {
    const me = freshId("q");
    const self = await srv.token(me, "consent:self");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(ok(await srv.gql<{ openDataRequest: { id: string } }>(OPEN, { input: { kind: "DISCLOSURE" } }, self)).openDataRequest.id);
    const before = await countEvents(srv, ledgerToken);
    const refused = await srv.gql(OPEN, { input: { kind: "DELETION", note: "again" } }, self);
    expect(refused.code).toBe("TOO_MANY_OPEN_REQUESTS");
    expect(refused.errors![0]!.extensions).toMatchObject({ limit: 5 });
    expect(refused.errors![0]!.message).not.toContain(me);
    expect(await countEvents(srv, ledgerToken)).toBe(before);
    // An officer opening one more for the subject is held to the same bound.
    expect((await srv.gql(OPEN, { input: { subjectId: me, kind: "CORRECTION" } }, await srv.token("officer", "subject:admin"))).code).toBe("TOO_MANY_OPEN_REQUESTS");
    // Another subject is not affected.
    ok(await srv.gql(OPEN, { input: { kind: "DISCLOSURE" } }, await srv.token(freshId("q"), "consent:self")));

    ok(await srv.gql(CLOSE, { id: ids[0] }, await srv.token("officer", "subject:admin")));
    ok(await srv.gql(OPEN, { input: { kind: "DELETION" } }, self));
  });

  it("refuses a requester's note over 1,000 characters", async () => {
    const self = await srv.token(freshId("q"), "consent:self");
    expect((await srv.gql(OPEN, { input: { kind: "DISCLOSURE", note: "n".repeat(1_001) } }, self)).code).toBe("BAD_USER_INPUT");
    ok(await srv.gql(OPEN, { input: { kind: "DISCLOSURE", note: "n".repeat(1_000) } }, self));
  });

  it("pages the officers' queue with first/after in due order, with no gap and no duplicate", async () => {
    const officer = await srv.token("officer", "subject:admin");
    for (let i = 0; i < 4; i++) ok(await srv.gql(OPEN, { input: { kind: "DISCLOSURE" } }, await srv.token(freshId("p"), "consent:self")));
    const QUEUE = `query($first: Int, $after: ID) { dataRequests(status: OPEN, first: $first, after: $after) { id dueAt } }`;
    const all = ok(await srv.gql<{ dataRequests: { id: string; dueAt: string }[] }>(QUEUE, {}, officer)).dataRequests;
    expect(all.length).toBeGreaterThanOrEqual(4);
    const paged: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { id: string }[] = ok(await srv.gql<{ dataRequests: { id: string }[] }>(QUEUE, { first: 3, after }, officer)).dataRequests;
      expect(page.length).toBeLessThanOrEqual(3);
      paged.push(...page.map((r) => r.id));
      if (page.length < 3) break;
      after = page.at(-1)!.id;
    }
    expect(paged).toEqual(all.map((r) => r.id));
    const dues = all.map((r) => Date.parse(r.dueAt));
    expect(dues).toEqual([...dues].sort((a, b) => a - b));
    expect((await srv.gql(QUEUE, { after: "no-such-request" }, officer)).code).toBe("BAD_USER_INPUT");
    expect((await srv.gql(QUEUE, { first: 1_001 }, officer)).code).toBe("BAD_USER_INPUT");
  });
});
