// §5 third parties: a grant covers the recipients named when it was given (APPI Arts. 27, 28), and receipts say so.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { ADTECH_US, PARTNER_SG, publishWithRecipients, receiptPayload } from "./support.js";
import { recordConsentMutation } from "../support/common.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());

const RECORD = recordConsentMutation(`subject { version } receipt`);
const PERMISSION = `query($s: ID!, $p: ID!, $r: ID) { permission(subjectId: $s, purposeId: $p, recipientId: $r) { permitted reason policyVersion } }`;
const COVERED = `query($s: ID!) { subject(id: $s) { consents { purpose { id recipients { id } } coveredRecipients { id country countryProtectionSystem measures recipientPurpose } } } }`;

const permission = async (s: string, r: string | null) =>
  (await srv.gql<{ permission: { permitted: boolean; reason: string; policyVersion: number } }>(PERMISSION, { s, p: "third-party-provision", r }, await srv.token("svc", "consent:read"))).data!.permission;
const covered = async (s: string) => {
  const r = await srv.gql<{ subject: { consents: { purpose: { id: string }; coveredRecipients: { id: string }[] }[] } }>(COVERED, { s }, await srv.token("svc", "consent:read"));
  expect(r.errors).toBeUndefined();
  return r.data!.subject.consents.find((c) => c.purpose.id === "third-party-provision")!.coveredRecipients;
};

describe("§5 third parties: recipients are part of what a person agreed to", () => {
  let v2 = 0;
  let v3 = 0;
  beforeAll(async () => {
    await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true } }, await srv.token("early", "consent:self"));
    v2 = await publishWithRecipients(srv, [PARTNER_SG]);
    await srv.gql(RECORD, { input: { policyVersion: v2, grant: ["third-party-provision"] } }, await srv.token("early", "consent:self"));
    v3 = await publishWithRecipients(srv, [PARTNER_SG, ADTECH_US]);
  });

  it("finding 1: a grant under v2 does not cover a recipient v3 added", async () => {
    expect(v3).toBe(v2 + 1);
    expect(await permission("early", null)).toMatchObject({ permitted: true, reason: "GRANTED", policyVersion: v3 });
    expect(await permission("early", PARTNER_SG.id)).toMatchObject({ permitted: true, reason: "GRANTED" });
    expect(await permission("early", ADTECH_US.id)).toMatchObject({ permitted: false, reason: "RECIPIENT_NOT_COVERED" });
    expect((await covered("early")).map((r) => r.id)).toEqual([PARTNER_SG.id]);
  });

  it("re-granting under the later version covers the recipient it added", async () => {
    const self = await srv.token("early", "consent:self");
    expect((await srv.gql(RECORD, { input: { policyVersion: v3, grant: ["third-party-provision"] } }, self)).errors).toBeUndefined();
    expect(await permission("early", ADTECH_US.id)).toMatchObject({ permitted: true, reason: "GRANTED" });
    expect(await covered("early")).toEqual([
      { id: PARTNER_SG.id, country: "SG", countryProtectionSystem: PARTNER_SG.countryProtectionSystem, measures: PARTNER_SG.measures, recipientPurpose: PARTNER_SG.recipientPurpose },
      { id: ADTECH_US.id, country: "US", countryProtectionSystem: ADTECH_US.countryProtectionSystem, measures: ADTECH_US.measures, recipientPurpose: ADTECH_US.recipientPurpose },
    ]);
  });

  it("permissions checks carry recipientId too", async () => {
    const r = await srv.gql<{ permissions: { permitted: boolean; reason: string }[] }>(
      `query($c: [PermissionCheckInput!]!) { permissions(checks: $c) { permitted reason } }`,
      { c: [{ subjectId: "early", purposeId: "third-party-provision", recipientId: "nobody-co" }, { subjectId: "early", purposeId: "third-party-provision", recipientId: PARTNER_SG.id }] },
      await srv.token("svc", "consent:read"),
    );
    expect(r.data!.permissions).toEqual([
      { permitted: false, reason: "RECIPIENT_NOT_COVERED" },
      { permitted: true, reason: "GRANTED" },
    ]);
  });

  it("finding 2: the receipt lists the covered recipients, says there is a disclosure, and names the catalogue's controller", async () => {
    const r = await srv.gql<{ recordConsent: { receipt: string } }>(RECORD, { input: { policyVersion: v3, acceptPolicy: true, grant: ["third-party-provision"] } }, await srv.token("late", "consent:self"));
    expect(r.errors).toBeUndefined();
    const payload = receiptPayload(r.data!.recordConsent.receipt);
    const purpose = payload.services[0]!.purposes.find((p) => p["purposeId"] === "third-party-provision")!;
    expect(purpose).toMatchObject({ thirdPartyDisclosure: true, thirdPartyName: "Partner Pte. Ltd., AdTech Inc." });
    expect((purpose["recipients"] as { id: string; country: string }[]).map((x) => [x.id, x.country])).toEqual([
      ["partner-sg", "SG"],
      ["adtech-us", "US"],
    ]);
    // The shipped catalogue gives only the company name (the policy text names nothing more): nothing is made up.
    expect(payload.piiControllers).toEqual([{ piiController: "中電クラビス株式会社", contact: "", address: "", email: "", phone: "", piiControllerUrl: "" }]);
  });

  it("the shipped third-party-provision names no recipient, so a grant of it covers none", async () => {
    const v1 = srv.app.services.ledger.catalog.get("clavis-privacy")!.versions[0]!;
    expect(v1.purposes.find((p) => p.id === "third-party-provision")!.recipients).toEqual([]);
  });
});

describe("§4 external transmission: the analytics module's recipient as the seed names it", () => {
  it("google-analytics is an EXTERNAL_MODULE of グーグル合同会社, sending to Google LLC in the US, with what Art. 28(2) asks", async () => {
    const r = await srv.gql<{ policy: { versions: { number: number; purposes: { id: string; recipients: Record<string, unknown>[] }[] }[] } }>(
      `query { policy(id: "clavis-privacy") { versions { number purposes { id recipients { id name kind country privacyPolicyUrl countryProtectionSystem measures recipientPurpose } } } } }`,
      {},
      await srv.token("reader", "consent:read"),
    );
    const v1 = r.data!.policy.versions[0]!;
    const [ga] = v1.purposes.find((p) => p.id === "external-analytics")!.recipients;
    expect(ga).toMatchObject({ id: "google-analytics", kind: "EXTERNAL_MODULE", country: "US", privacyPolicyUrl: "https://www.google.com/policies/privacy/?hl=ja" });
    expect(String(ga!["name"])).toContain("グーグル合同会社");
    expect(String(ga!["name"])).toContain("Google LLC");
    for (const k of ["countryProtectionSystem", "measures", "recipientPurpose"]) expect(String(ga![k]).length).toBeGreaterThan(0);
  });
});
