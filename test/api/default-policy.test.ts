// Finding 6 of the third review: a later publication of a second base policy cannot change what
// calls without policyId are about. Through the API, on each backend (vitest.config.ts).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { BASE_POLICY, freshId, ok, onboard, recordConsent } from "./helpers.js";

/** The query the preference centre loads with, as its source holds it (the page's typed wrapper is generated at build time). */
const PREFERENCES_QUERY = /PreferencesQuery = graphql\(`([^`]*)`\)/.exec(readFileSync("src/web/preferences/queries.ts", "utf8"))![1]!;

const PUBLISH = `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { policyId number } }`;
const PERMISSION = `query($s: ID!, $p: ID!, $policy: ID) { permission(subjectId: $s, purposeId: $p, policyId: $policy) { policyId permitted reason } }`;

/** A second policy that overrides nothing, with one opt-in purpose of its own. */
const secondBase = (policyId: string) => ({
  policyId,
  title: "Partner programme",
  effectiveAt: new Date(Date.now() - 60_000).toISOString(),
  requiresConsent: true,
  documentDigest: "b".repeat(64),
  documentUrl: "https://example.jp/partner",
  purposes: [{ id: "partner-offers", title: "Partner offers", mode: "OPT_IN", basis: "CONSENT", dataCategories: ["contact"], consentTtlDays: null, recipients: [] }],
});

describe("finding 6: a second base policy cannot change the default policy", () => {
  let srv: TestServer;
  let officer: string;
  const other = "partner-second";
  beforeAll(async () => {
    srv = await startTestServer();
    officer = await srv.token("officer", "consent:read policy:write");
  }, 60_000);
  afterAll(() => srv?.close());

  it("keeps permission, me, recordConsent and the preference centre's query on the shipped policy; the second is named explicitly", async () => {
    const subject = freshId("def");
    await onboard(srv, subject, ["location"]);
    ok(await srv.gql(PUBLISH, { input: secondBase(other) }, officer));
    const policies = ok(await srv.gql<{ policies: { id: string; overrides: unknown }[] }>(`{ policies { id overrides { id } } }`, {}, officer)).policies;
    expect(policies.filter((p) => p.overrides === null).map((p) => p.id).sort()).toEqual([BASE_POLICY, other].sort());

    // Reads without policyId answer for the default policy.
    const p = ok(await srv.gql<{ permission: { policyId: string; permitted: boolean } }>(PERMISSION, { s: subject, p: "location" }, officer)).permission;
    expect(p).toMatchObject({ policyId: BASE_POLICY, permitted: true });
    const self = await srv.token(subject, "consent:self");
    const me = ok(await srv.gql<{ me: { consents: { policyId: string }[] } }>(`{ me { consents { policyId purpose { id } } } }`, {}, self)).me;
    expect(me.consents.length).toBeGreaterThan(0);
    expect(new Set(me.consents.map((c) => c.policyId))).toEqual(new Set([BASE_POLICY]));
    // The preference centre's own query loads.
    const page = await srv.gql<{ me: { policyStandings: { policy: { id: string } }[] } }>(PREFERENCES_QUERY, {}, self);
    expect(page.errors, JSON.stringify(page.errors)).toBeUndefined();
    expect(page.data!.me.policyStandings.map((s) => s.policy.id).sort()).toEqual([BASE_POLICY, other].sort());

    // A write without policyId is recorded under the default policy.
    const w = ok(await recordConsent(srv, self, { policyVersion: 1, withdraw: ["location"] })).recordConsent;
    expect(w.events.map((e) => e.data["policyId"])).toEqual([BASE_POLICY]);
    expect(ok(await srv.gql<{ permission: { permitted: boolean } }>(PERMISSION, { s: subject, p: "location" }, officer)).permission.permitted).toBe(false);

    // The second base policy works when named.
    ok(await recordConsent(srv, self, { policyId: other, policyVersion: 1, acceptPolicy: true, grant: ["partner-offers"] }));
    const named = ok(await srv.gql<{ permission: { policyId: string; permitted: boolean } }>(PERMISSION, { s: subject, p: "partner-offers", policy: other }, officer)).permission;
    expect(named).toMatchObject({ policyId: other, permitted: true });
    // Its purpose is not the default policy's: asked without policyId, the default policy answers that it does not define it.
    const unnamed = await srv.gql(PERMISSION, { s: subject, p: "partner-offers" }, officer);
    expect(unnamed.code).toBe("UNKNOWN_PURPOSE");
    expect(unnamed.errors![0]!.message).toContain(BASE_POLICY);
  });
});

describe("finding 6: DEFAULT_POLICY_ID names the default policy", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ env: { DEFAULT_POLICY_ID: "partner-default" } });
  });
  afterAll(() => srv.close());

  it("uses the shipped policy while the named one is unpublished, and the named one from its publication on", async () => {
    const officer = await srv.token("officer", "consent:read policy:write");
    const subject = freshId("named");
    await onboard(srv, subject, ["location"]);
    expect(ok(await srv.gql<{ permission: { policyId: string } }>(PERMISSION, { s: subject, p: "location" }, officer)).permission.policyId).toBe(BASE_POLICY);
    ok(await srv.gql(PUBLISH, { input: secondBase("partner-default") }, officer));
    expect(ok(await srv.gql<{ permission: { policyId: string } }>(PERMISSION, { s: subject, p: "partner-offers" }, officer)).permission.policyId).toBe("partner-default");
    const self = await srv.token(subject, "consent:self");
    const w = ok(await recordConsent(srv, self, { policyVersion: 1, acceptPolicy: true, grant: ["partner-offers"] })).recordConsent;
    expect(new Set(w.events.map((e) => e.data["policyId"]))).toEqual(new Set(["partner-default"]));
    // The shipped policy is still there, by name.
    expect(ok(await srv.gql<{ permission: { policyId: string; permitted: boolean } }>(PERMISSION, { s: subject, p: "location", policy: BASE_POLICY }, officer)).permission).toMatchObject({ policyId: BASE_POLICY, permitted: true });
  });
});
