// The seed policy's §6 and §1(5) through HTTP: new versions, re-consent, versions that apply at once, overriding policies.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { BASE_POLICY, countEvents, freshId, iso, ok, onboard, recordConsent } from "./helpers.js";

interface PurposeInput {
  id: string;
  title: string;
  description?: string | null;
  mode: string;
  basis: string;
  dataCategories: string[];
  recipients?: { id: string; name: string; kind: string; country?: string | null; privacyPolicyUrl?: string | null }[];
  consentTtlDays?: number | null;
}

const V1_PURPOSES = (JSON.parse(readFileSync("data/policies/clavis-privacy.v1.json", "utf8")) as { purposes: PurposeInput[] }).purposes;
const NEWSLETTER: PurposeInput = { id: "newsletter", title: "メールマガジン", description: "Marketing e-mail", mode: "OPT_IN", basis: "CONSENT", dataCategories: ["contact"] };

const PUBLISH = `mutation($input: PublishPolicyVersionInput!) {
  publishPolicyVersion(input: $input) { policyId number requiresConsent effectiveAt publishedAt digest purposes { id mode } }
}`;

const STANDING = `query($s: ID!, $at: DateTime) { subject(id: $s) { policyStandings(at: $at) {
  policy { id } acceptedVersion { number } applicableVersion { number } pendingVersion { number } needsReconsent } } }`;

interface Standing {
  policy: { id: string };
  acceptedVersion: { number: number } | null;
  applicableVersion: { number: number } | null;
  pendingVersion: { number: number } | null;
  needsReconsent: boolean;
}
interface Decision {
  policyId: string;
  purposeId: string;
  permitted: boolean;
  status: string;
  reason: string;
  policyVersion: number | null;
}

let srv: TestServer;
let officer: string;
let reader: string;
let auditor: string;
const alice = freshId("alice");
const bob = freshId("bob");
const carol = freshId("carol");

beforeAll(async () => {
  srv = await startTestServer();
  officer = await srv.token("officer", "policy:write");
  reader = await srv.token("svc", "consent:read");
  auditor = await srv.token("auditor", "ledger:read");
  await onboard(srv, alice, ["location"]);
  await onboard(srv, bob, ["location"]);
});
afterAll(() => srv.close());

const publish = (input: Record<string, unknown>) =>
  srv.gql<{ publishPolicyVersion: { policyId: string; number: number; requiresConsent: boolean; purposes: { id: string; mode: string }[] } }>(PUBLISH, { input }, officer);

const version = (overrides: Partial<Record<string, unknown>> = {}) => ({
  policyId: BASE_POLICY,
  title: "プライバシーポリシー",
  effectiveAt: iso(-1000),
  requiresConsent: true,
  documentDigest: "b".repeat(64),
  changeSummary: "adds the newsletter",
  purposes: [...V1_PURPOSES, NEWSLETTER],
  ...overrides,
});

async function standing(subjectId: string, policyId = BASE_POLICY, at?: string): Promise<Standing> {
  const r = ok(await srv.gql<{ subject: { policyStandings: Standing[] } }>(STANDING, { s: subjectId, at }, reader));
  const s = r.subject.policyStandings.find((x) => x.policy.id === policyId);
  expect(s, `a standing for ${policyId}`).toBeDefined();
  return s!;
}

async function permission(subjectId: string, purposeId: string, policyId?: string): Promise<Decision> {
  const r = ok(await srv.gql<{ permission: Decision }>(
    `query($s: ID!, $p: ID!, $pol: ID) { permission(subjectId: $s, purposeId: $p, policyId: $pol) { policyId purposeId permitted status reason policyVersion } }`,
    { s: subjectId, p: purposeId, pol: policyId },
    reader,
  ));
  return r.permission;
}

const pending = async () => ok(await srv.gql<{ reconsentPending: string[] }>(`{ reconsentPending(policyId: "${BASE_POLICY}", first: 1000) }`, {}, reader)).reconsentPending;

describe("a new version that requires consent (seed §6)", () => {
  it("is published by policy:write as version 2 and becomes the policy's current version", async () => {
    const r = ok(await publish(version()));
    expect(r.publishPolicyVersion).toMatchObject({ policyId: BASE_POLICY, number: 2, requiresConsent: true });
    expect(r.publishPolicyVersion.purposes.map((p) => p.id)).toContain("newsletter");
    const p = ok(await srv.gql<{ policy: { currentVersion: { number: number }; versions: { number: number }[] } }>(
      `{ policy(id: "${BASE_POLICY}") { currentVersion { number } versions { number } } }`,
      {},
      reader,
    ));
    expect(p.policy.currentVersion.number).toBe(2);
    expect(p.policy.versions.map((v) => v.number)).toEqual([1, 2]);
  });

  it("before the subject accepts it: applicable 1, pending 2, needsReconsent", async () => {
    expect(await standing(alice)).toMatchObject({ acceptedVersion: { number: 1 }, applicableVersion: { number: 1 }, pendingVersion: { number: 2 }, needsReconsent: true });
  });

  it("before acceptance the new purpose is NOT_IN_APPLICABLE_POLICY and not permitted, while old choices still hold under v1", async () => {
    expect(await permission(alice, "newsletter")).toMatchObject({ permitted: false, reason: "NOT_IN_APPLICABLE_POLICY", status: "NOT_ASKED", policyVersion: 1 });
    expect(await permission(alice, "location")).toMatchObject({ permitted: true, reason: "GRANTED", policyVersion: 1 });
    const c = ok(await srv.gql<{ subject: { consents: { purpose: { id: string }; permitted: boolean; reason: string }[] } }>(
      `query($s: ID!) { subject(id: $s) { consents { purpose { id } permitted reason } } }`,
      { s: alice },
      reader,
    ));
    expect(c.subject.consents.find((x) => x.purpose.id === "newsletter")).toMatchObject({ permitted: false, reason: "NOT_IN_APPLICABLE_POLICY" });
  });

  it("reconsentPending lists the subjects who accepted only v1", async () => {
    const ids = await pending();
    expect(ids).toContain(alice);
    expect(ids).toContain(bob);
  });

  it("granting the new purpose under v2 without accepting v2 is POLICY_NOT_ACCEPTED, appending nothing", async () => {
    const before = await countEvents(srv, auditor);
    const r = await recordConsent(srv, await srv.token(alice, "consent:self"), { policyVersion: 2, grant: ["newsletter"] });
    expect(r.code).toBe("POLICY_NOT_ACCEPTED");
    expect(await countEvents(srv, auditor)).toBe(before);
    // Under v1 it is not a purpose at all.
    expect((await recordConsent(srv, await srv.token(alice, "consent:self"), { policyVersion: 1, grant: ["newsletter"] })).code).toBe("UNKNOWN_PURPOSE");
  });

  it("after accepting v2 (with the grant in the same call) v2 applies, the new purpose is permitted and old choices carry over", async () => {
    const r = ok(await recordConsent(srv, await srv.token(alice, "consent:self"), { policyVersion: 2, acceptPolicy: true, grant: ["newsletter"] }));
    expect(r.recordConsent.events.map((e) => e.type)).toEqual(["PolicyAccepted", "ConsentGranted"]);
    expect(await standing(alice)).toMatchObject({ acceptedVersion: { number: 2 }, applicableVersion: { number: 2 }, pendingVersion: null, needsReconsent: false });
    expect(await permission(alice, "newsletter")).toMatchObject({ permitted: true, reason: "GRANTED", policyVersion: 2 });
    expect(await permission(alice, "location")).toMatchObject({ permitted: true, reason: "GRANTED", policyVersion: 2 });
  });

  it("reconsentPending no longer lists the subject who accepted, but still lists the others", async () => {
    const ids = await pending();
    expect(ids).not.toContain(alice);
    expect(ids).toContain(bob);
  });

  it("a subject who never accepted any version has no applicable version and nothing optional is permitted", async () => {
    expect(await standing(carol)).toMatchObject({ acceptedVersion: null, applicableVersion: null, needsReconsent: true });
    expect(await permission(carol, "access-analytics")).toMatchObject({ permitted: false, reason: "POLICY_NOT_ACCEPTED" });
  });
});

describe("a later version that does not require consent", () => {
  it("applies at once to v2 acceptors, and stays pending behind v2 for v1 acceptors", async () => {
    const r = ok(await publish(version({ requiresConsent: false, changeSummary: "wording only", purposes: [...V1_PURPOSES, { ...NEWSLETTER, title: "ニュースレター" }] })));
    expect(r.publishPolicyVersion.number).toBe(3);
    expect(await standing(alice)).toMatchObject({ acceptedVersion: { number: 2 }, applicableVersion: { number: 3 }, pendingVersion: null, needsReconsent: false });
    expect(await permission(alice, "newsletter")).toMatchObject({ permitted: true, policyVersion: 3 });
    expect(await standing(bob)).toMatchObject({ acceptedVersion: { number: 1 }, applicableVersion: { number: 1 }, pendingVersion: { number: 3 }, needsReconsent: true });
    expect(await permission(bob, "newsletter")).toMatchObject({ permitted: false, reason: "NOT_IN_APPLICABLE_POLICY" });
    const ids = await pending();
    expect(ids).toContain(bob);
    expect(ids).not.toContain(alice);
  });

  it("a version published for a future date changes nothing until it takes effect", async () => {
    const effective = iso(2 * 86_400_000);
    const r = ok(await publish(version({ effectiveAt: effective, requiresConsent: true, changeSummary: "future terms" })));
    expect(r.publishPolicyVersion.number).toBe(4);
    expect(await standing(alice)).toMatchObject({ applicableVersion: { number: 3 }, pendingVersion: null, needsReconsent: false });
    expect(await pending()).not.toContain(alice);
    // As of a date after it takes effect, alice must re-consent and v3 still applies to her meanwhile.
    expect(await standing(alice, BASE_POLICY, iso(3 * 86_400_000))).toMatchObject({ applicableVersion: { number: 3 }, pendingVersion: { number: 4 }, needsReconsent: true });
  });

  it("may be accepted before it takes effect", async () => {
    const dave = freshId("dave");
    ok(await recordConsent(srv, await srv.token(dave, "consent:self"), { policyVersion: 4, acceptPolicy: true, grant: ["newsletter"] }));
    const now = await standing(dave);
    expect(now.acceptedVersion?.number).toBe(4);
    expect(now.applicableVersion?.number).toBe(3);
    expect(now.needsReconsent).toBe(false);
    expect(await standing(dave, BASE_POLICY, iso(3 * 86_400_000))).toMatchObject({ applicableVersion: { number: 4 }, pendingVersion: null, needsReconsent: false });
  });
});

describe("an overriding policy (seed §1(5))", () => {
  const APP = "clavis-app";
  it("is published with overrides: clavis-privacy and shows that link", async () => {
    ok(await publish({
      policyId: APP,
      title: "アプリ利用規約",
      overrides: BASE_POLICY,
      effectiveAt: iso(-1000),
      requiresConsent: false,
      documentDigest: "c".repeat(64),
      purposes: [{ id: "access-analytics", title: "アプリ内解析", mode: "OPT_IN", basis: "CONSENT", dataCategories: ["ad-id", "access-log"] }],
    }));
    const r = ok(await srv.gql<{ policies: { id: string; overrides: { id: string } | null }[] }>(`{ policies { id overrides { id } } }`, {}, reader));
    expect(r.policies).toContainEqual({ id: APP, overrides: { id: BASE_POLICY } });
    expect(r.policies).toContainEqual({ id: BASE_POLICY, overrides: null });
  });

  it("a permission under the override uses its definition for the purpose it redefines", async () => {
    expect(await permission(alice, "access-analytics", APP)).toMatchObject({ policyId: APP, permitted: false, reason: "NOT_GRANTED", status: "NOT_ASKED" });
    // The base policy alone still says OPT_OUT.
    expect(await permission(alice, "access-analytics")).toMatchObject({ policyId: BASE_POLICY, permitted: true, reason: "DEFAULT_OPT_OUT" });
  });

  it("falls back to the base policy and the subject's choices under it for the other purposes", async () => {
    expect(await permission(alice, "location", APP)).toMatchObject({ policyId: BASE_POLICY, permitted: true, reason: "GRANTED" });
    expect(await permission(alice, "service-provision", APP)).toMatchObject({ policyId: BASE_POLICY, permitted: true, reason: "REQUIRED_FOR_SERVICE" });
  });

  it("a grant under the override counts there only; the base's choice is its own", async () => {
    ok(await recordConsent(srv, await srv.token(alice, "consent:self"), { policyId: APP, policyVersion: 1, grant: ["access-analytics"] }));
    expect(await permission(alice, "access-analytics", APP)).toMatchObject({ policyId: APP, permitted: true, reason: "GRANTED" });
    ok(await recordConsent(srv, await srv.token(alice, "consent:self"), { policyVersion: 3, withdraw: ["access-analytics"] }));
    expect(await permission(alice, "access-analytics")).toMatchObject({ policyId: BASE_POLICY, permitted: false, reason: "WITHDRAWN" });
    expect(await permission(alice, "access-analytics", APP)).toMatchObject({ policyId: APP, permitted: true, reason: "GRANTED" });
  });

  it("consents under the override list each purpose once, from the policy that governs it", async () => {
    const r = ok(await srv.gql<{ subject: { consents: { policyId: string; purpose: { id: string; mode: string } }[] } }>(
      `query($s: ID!) { subject(id: $s) { consents(policyId: "${APP}") { policyId purpose { id mode } } } }`,
      { s: alice },
      reader,
    ));
    const ids = r.subject.consents.map((c) => c.purpose.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(r.subject.consents.find((c) => c.purpose.id === "access-analytics")).toMatchObject({ policyId: APP, purpose: { mode: "OPT_IN" } });
    expect(r.subject.consents.find((c) => c.purpose.id === "location")).toMatchObject({ policyId: BASE_POLICY });
  });

  it("a batch of permissions mixes policies in one read", async () => {
    const r = ok(await srv.gql<{ permissions: Decision[] }>(
      `query($s: ID!) { permissions(checks: [
        { subjectId: $s, purposeId: "access-analytics", policyId: "${APP}" },
        { subjectId: $s, purposeId: "access-analytics" },
        { subjectId: $s, purposeId: "location", policyId: "${APP}" }]) { policyId permitted reason } }`,
      { s: alice },
      reader,
    ));
    expect(r.permissions.map((d) => [d.policyId, d.permitted, d.reason])).toEqual([
      [APP, true, "GRANTED"],
      [BASE_POLICY, false, "WITHDRAWN"],
      [BASE_POLICY, true, "GRANTED"],
    ]);
  });

  it("policyId left out still means the one policy that overrides nothing", async () => {
    const r = ok(await recordConsent(srv, await srv.token(freshId(), "consent:self"), { policyVersion: 3, acceptPolicy: true }));
    expect(r.recordConsent.events[0]!.data).toMatchObject({ policyId: BASE_POLICY, version: 3 });
  });

  it("a purpose the override does not know and the base does not either is UNKNOWN_PURPOSE", async () => {
    const r = await srv.gql(`query($s: ID!) { permission(subjectId: $s, purposeId: "telepathy", policyId: "${APP}") { permitted } }`, { s: alice }, reader);
    expect(r.code).toBe("UNKNOWN_PURPOSE");
  });
});
