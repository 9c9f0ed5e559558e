// The third security review through the API, as a client would try each attack: URLs and page
// headers, invisible actor ids and the data folder, and bad input that must be a 400, not a 500.
// Where a finding concerns the database, it runs on SQLite and on PostgreSQL.
import { chmodSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { SignJWT, importJWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDevAuthKey } from "../../src/auth/dev-keys.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshDatabase } from "../support/postgres.js";
import { makeTempDir } from "../support/common.js";
import { countEvents, freshId, memoryLogger, ok, onboard, recordConsent } from "./helpers.js";

const PUBLISH = `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { number } }`;

/** A publication of a policy of its own (so nothing else in the ledger changes), with the given links. */
function publication(links: { documentUrl?: string | null; privacyPolicyUrl?: string | null; controllerUrl?: string | null }) {
  return {
    policyId: freshId("p"),
    title: "Links",
    effectiveAt: new Date(Date.now() - 60_000).toISOString(),
    requiresConsent: false,
    documentDigest: "a".repeat(64),
    documentUrl: links.documentUrl ?? null,
    changeSummary: null,
    controller: { name: "Clavis", url: links.controllerUrl ?? null },
    purposes: [
      {
        id: "mail",
        title: "Mail",
        mode: "OPT_IN",
        basis: "CONSENT",
        dataCategories: ["contact"],
        consentTtlDays: null,
        recipients: [{ id: "mailer", name: "Mailer", kind: "PROCESSOR", country: "JP", privacyPolicyUrl: links.privacyPolicyUrl ?? null }],
      },
    ],
  };
}

describe("finding 8: links are https: or http: only, and every HTML answer carries the security headers", () => {
  let srv: TestServer;
  let dpo: string;
  let auditor: string;
  beforeAll(async () => {
    srv = await startTestServer();
    dpo = await srv.token("dpo", "policy:write");
    auditor = await srv.token("auditor", "ledger:read");
  });
  afterAll(() => srv.close());

  const BAD = ["javascript:alert(document.cookie)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x", "file:///etc/passwd", "//evil.example/x", "example.jp/privacy", "https://"];

  it("refuses javascript:, data: and other non-web links in documentUrl, privacyPolicyUrl and controller.url, appending nothing", async () => {
    const before = await countEvents(srv, auditor);
    for (const url of BAD)
      for (const [field, links] of [
        ["documentUrl", { documentUrl: url }],
        ["privacyPolicyUrl", { privacyPolicyUrl: url }],
        ["controller.url", { controllerUrl: url }],
      ] as const) {
        const r = await srv.gql(PUBLISH, { input: publication(links) }, dpo);
        expect(r.code, `${field} ${url}`).toBe("BAD_USER_INPUT");
        expect(r.errors![0]!.message).toMatch(/must be an absolute https: or http: URL/);
      }
    expect(await countEvents(srv, auditor)).toBe(before);
  });

  it("takes https: and http: links", async () => {
    const r = await srv.gql<{ publishPolicyVersion: { number: number } }>(
      PUBLISH,
      { input: publication({ documentUrl: "https://example.jp/privacy?v=2#top", privacyPolicyUrl: "http://mailer.example/privacy", controllerUrl: "https://clavis.example/" }) },
      dpo,
    );
    expect(ok(r).publishPolicyVersion.number).toBe(1);
  });

  it("sends CSP, frame, nosniff and referrer headers with the notice page, in HTML and JSON alike", async () => {
    const base = srv.url.replace(/\/graphql$/, "");
    for (const accept of ["text/html", "application/json"]) {
      const res = await fetch(`${base}/notices/external-transmission`, { headers: { accept } });
      expect(res.status).toBe(200);
      await res.text();
      expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    }
    // Errors and the other answers too.
    for (const path of ["/nowhere", "/healthz"]) {
      const res = await fetch(`${base}${path}`);
      await res.text();
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(res.headers.get("x-frame-options"), path).toBe("DENY");
    }
  });
});

describe("finding 9: invisible actor ids, a trailing-dot e-mail address, and the data folder's mode", () => {
  let srv: TestServer;
  let auditor: string;
  const logs = memoryLogger();
  let dataDir: string;
  beforeAll(async () => {
    // An existing data folder that others may read and enter, as `mkdir` leaves it.
    dataDir = makeTempDir("ledger-mode-");
    chmodSync(dataDir, 0o755);
    srv = await startTestServer({ dataDir, logger: logs.logger });
    auditor = await srv.token("auditor", "ledger:read");
  });
  afterAll(async () => {
    await srv.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A token signed with the server's own dev key, so only the sub can be refused. */
  async function tokenFor(sub: string, scope: string): Promise<string> {
    const key = await ensureDevAuthKey(srv.dataDir);
    return new SignJWT({ scope })
      .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" })
      .setIssuer(srv.config.auth.issuer!)
      .setAudience(srv.config.auth.audience!)
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(await importJWK(key.privateJwk, "ES256"));
  }

  it("refuses a token whose sub is or holds an invisible character", async () => {
    const invisible = ["\u3164", "\u2800", "admin\u3164", "\u3164admin", "ad\u115Fmin", "\u1160", "\uFFA0", "admin\u200B", "admin\u200D", "\u2060admin", "admin\u206F", "\uFEFFadmin", "admin\u180E", "admin\uFE0F", "ad\u00ADmin"];
    const before = await countEvents(srv, auditor);
    for (const sub of invisible) {
      const r = await srv.gql(`{ events(first: 1) { edges { cursor } } }`, {}, await tokenFor(sub, "ledger:read"));
      expect(r.status, JSON.stringify(sub)).toBe(401);
      expect(r.code).toBe("UNAUTHENTICATED");
      const w = await recordConsent(srv, await tokenFor(sub, "consent:write"), { subjectId: freshId(), policyVersion: 1, acceptPolicy: true });
      expect(w.code).toBe("UNAUTHENTICATED");
    }
    expect(await countEvents(srv, auditor)).toBe(before);
    // Visible ids in any script still pass.
    for (const sub of ["ユーザー1", "관리자", "auth0|5f7c8ec7", "admin"]) ok(await srv.gql(`{ events(first: 1) { edges { cursor } } }`, {}, await tokenFor(sub, "ledger:read")));
  });

  it("refuses a new subject id that is an e-mail address with the root's trailing dot", async () => {
    const writer = await srv.token("importer", "consent:write");
    const before = await countEvents(srv, auditor);
    for (const id of ["hana@example.jp.", "hana.sato@example.co.jp."]) {
      const r = await recordConsent(srv, writer, { subjectId: id, policyVersion: 1, acceptPolicy: true });
      expect(r.code, id).toBe("BAD_USER_INPUT");
      expect(r.errors![0]!.message).toMatch(/pseudonymous/);
    }
    expect(await countEvents(srv, auditor)).toBe(before);
    ok(await recordConsent(srv, writer, { subjectId: `${freshId()}.`, policyVersion: 1, acceptPolicy: true }));
  });

  it("tightens an existing 0755 data folder to 0700 and says so in the log", () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const line = logs.lines().find((l) => typeof l["msg"] === "string" && /tightened the data folder/.test(l["msg"] as string));
    expect(line).toMatchObject({ level: 30, mode: "0755", dataDir });
  });

  it("creates a missing data folder 0700", async () => {
    const parent = makeTempDir("ledger-mode-parent-");
    const fresh = join(parent, "data");
    try {
      const s = await startTestServer({ dataDir: fresh });
      await s.close();
      expect(statSync(fresh).mode & 0o777).toBe(0o700);
      mkdirSync(join(parent, "other"), { mode: 0o700 });
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

/** `{"query": …, "variables": {"x": [[[…]]]}}` nested `levels` deep, written out by hand (JSON.stringify would overflow here too). */
const deepVariablesBody = (query: string, levels: number) => `{"query":${JSON.stringify(query)},"variables":{"x":${"[".repeat(levels)}${"]".repeat(levels)}}}`;

for (const backend of ["sqlite", "postgres"] as const)
  describe(`finding 10: bad input is a 400 with a clear code, never a 500 (${backend})`, () => {
    let srv: TestServer;
    let auditor: string;
    beforeAll(async () => {
      srv = await startTestServer(backend === "postgres" ? { env: { DATABASE_URL: await freshDatabase("sec3") } } : {});
      auditor = await srv.token("auditor", "ledger:read consent:read");
    }, 60_000);
    afterAll(() => srv?.close());

    it("refuses an unused variable nested 400,000 levels with BAD_USER_INPUT, and goes on serving", async () => {
      const self = await srv.token(freshId("deep"), "consent:self");
      const res = await fetch(srv.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${self}` },
        body: deepVariablesBody("query { me { id } }", 400_000),
      });
      const body = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
      expect(res.status).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(body.errors?.[0]?.message).toMatch(/nest deeper than/);
      // Ordinary nesting still passes, and the server still answers.
      const shallow = await fetch(srv.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${self}` },
        body: deepVariablesBody("query { me { id } }", 8),
      });
      expect(shallow.status).toBe(200);
      expect((await fetch(srv.url.replace(/\/graphql$/, "/healthz"))).status).toBe(200);
    });

    it("refuses a NUL in types, subjectId or any string input with BAD_USER_INPUT before the database sees it", async () => {
      const subject = freshId("nul");
      await onboard(srv, subject, ["location"]);
      const self = await srv.token(subject, "consent:self");
      const writer = await srv.token("importer", "consent:write");
      const before = await countEvents(srv, auditor);
      const attempts: [string, string, Record<string, unknown>, string][] = [
        ["history(types) literal", `{ me { history(types: ["\\u0000"]) { edges { cursor } } } }`, {}, self],
        ["history(types) variable", `query($t: [String!]) { me { history(types: $t) { edges { cursor } } } }`, { t: ["Consent\u0000Recorded"] }, self],
        ["events(types)", `query($t: [String!]) { events(first: 5, subjectId: "${subject}", types: $t) { edges { cursor } } }`, { t: ["\u0000"] }, auditor],
        ["events(subjectId)", `query($s: ID) { events(first: 5, subjectId: $s) { edges { cursor } } }`, { s: `${subject}\u0000` }, auditor],
        ["subject(id)", `query($s: ID!) { subject(id: $s) { id } }`, { s: "\u0000" }, auditor],
        ["permission(subjectId)", `query($s: ID!) { permission(subjectId: $s, purposeId: "location") { permitted } }`, { s: `a\u0000b` }, auditor],
        ["permission(purposeId)", `query($p: ID!) { permission(subjectId: "${subject}", purposeId: $p) { permitted } }`, { p: "loc\u0000ation" }, auditor],
        ["recordConsent(evidence)", `mutation($i: RecordConsentInput!) { recordConsent(input: $i) { subject { id } } }`, { i: { subjectId: freshId(), policyVersion: 1, acceptPolicy: true, evidence: { channel: "web\u0000" } } }, writer],
        ["an unused variable", `query { me { id } }`, { unused: { "k\u0000": 1 } }, self],
      ];
      for (const [why, query, variables, token] of attempts) {
        const r = await srv.gql(query, variables, token);
        expect(r.code, why).toBe("BAD_USER_INPUT");
        expect(r.status, why).toBe(400);
        expect(r.errors![0]!.message, why).toMatch(/NUL/);
      }
      expect(await countEvents(srv, auditor)).toBe(before);
      // The same reads without the NUL answer.
      ok(await srv.gql(`query($t: [String!]) { me { history(types: $t) { edges { cursor } } } }`, { t: ["ConsentRecorded"] }, self));
    });
  });
