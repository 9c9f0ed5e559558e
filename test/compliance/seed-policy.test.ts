// The seed policy's section table (docs/seed-policy.ja.md), the rows not held elsewhere under their section's name: each
// promise of the policy, kept through the public API as a client would use it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { recordConsentMutation } from "../support/common.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.close());

const RECORD = recordConsentMutation(`subject { status } events { type }`);
const PERMISSION = `query($s: ID!, $p: ID!) { permission(subjectId: $s, purposeId: $p) { permitted reason } }`;
const EVENTS = `query($s: ID!) { events(subjectId: $s, first: 100) { edges { node { type data } } } }`;
type Decision = { permitted: boolean; reason: string };
type Events = { events: { edges: { node: { type: string; data: Record<string, unknown> } }[] } };

const permission = async (s: string, p: string): Promise<Decision> =>
  (await srv.gql<{ permission: Decision }>(PERMISSION, { s, p }, await srv.token("svc", "consent:read"))).data!.permission;
const record = async (subject: string, input: Record<string, unknown>) => srv.gql<{ recordConsent: { subject: { status: string } } }>(RECORD, { input: { policyVersion: 1, ...input } }, await srv.token(subject, "consent:self"));
const events = async (s: string) => (await srv.gql<Events>(EVENTS, { s }, await srv.token("auditor", "ledger:read"))).data!.events.edges.map((e) => e.node);

async function purposes(): Promise<Map<string, { mode: string; basis: string; dataCategories: string[] }>> {
  const r = await srv.gql<{ policy: { versions: { purposes: { id: string; mode: string; basis: string; dataCategories: string[] }[] }[] } }>(
    `{ policy(id: "clavis-privacy") { versions { purposes { id mode basis dataCategories } } } }`,
    {},
    await srv.token("reader", "consent:read"),
  );
  return new Map(r.data!.policy.versions[0]!.purposes.map((p) => [p.id, p]));
}

describe("§1(1) data the user provides", () => {
  it("every purpose names the data categories it uses; providing the service uses profile, contact and form input", async () => {
    const all = await purposes();
    for (const [id, p] of all) expect(p.dataCategories.length, id).toBeGreaterThan(0);
    expect(all.get("service-provision")!.dataCategories).toEqual(expect.arrayContaining(["profile", "contact", "form-input"]));
  });
});

describe("§1(2) data from linked services", () => {
  it("linked-accounts is OPT_IN, and the grant records which service through its evidence", async () => {
    expect((await purposes()).get("linked-accounts")!.mode).toBe("OPT_IN");
    expect(await permission("linker", "linked-accounts")).toMatchObject({ permitted: false });
    const r = await record("linker", { acceptPolicy: true, grant: ["linked-accounts"], evidence: { formId: "link-sns:example-sns", channel: "web" } });
    expect(r.errors).toBeUndefined();
    expect(await permission("linker", "linked-accounts")).toEqual({ permitted: true, reason: "GRANTED" });
    const grant = (await events("linker")).find((e) => e.type === "ConsentGranted")!;
    expect(grant.data.evidence).toMatchObject({ formId: "link-sns:example-sns" });
  });
});

describe("§1(3) cookies, beacons, ad ids and access logs", () => {
  it("access-analytics is OPT_OUT: permitted once the policy is accepted, until the user objects", async () => {
    expect((await purposes()).get("access-analytics")!.mode).toBe("OPT_OUT");
    await record("browser", { acceptPolicy: true });
    expect(await permission("browser", "access-analytics")).toEqual({ permitted: true, reason: "DEFAULT_OPT_OUT" });
    expect((await record("browser", { withdraw: ["access-analytics"] })).errors).toBeUndefined();
    expect(await permission("browser", "access-analytics")).toEqual({ permitted: false, reason: "WITHDRAWN" });
  });
});

describe("§2 purposes of use", () => {
  it("a REQUIRED purpose cannot be withdrawn; it stops only when the user leaves", async () => {
    await record("member", { acceptPolicy: true });
    expect(await permission("member", "service-provision")).toEqual({ permitted: true, reason: "REQUIRED_FOR_SERVICE" });
    expect((await record("member", { withdraw: ["service-provision"] })).code).toBe("REQUIRED_PURPOSE");
    expect((await srv.gql(`mutation { leaveService { status } }`, {}, await srv.token("member", "consent:self"))).errors).toBeUndefined();
    expect(await permission("member", "service-provision")).toEqual({ permitted: false, reason: "SUBJECT_LEFT" });
  });
});

describe("§2 safe management", () => {
  it("evidence is kept sealed and opens while the subject exists; erasure makes it unreadable for good", async () => {
    await record("careful", { acceptPolicy: true, evidence: { ipAddress: "198.51.100.23" } });
    const accepted = () => events("careful").then((es) => es.find((e) => e.type === "PolicyAccepted")!);
    expect((await accepted()).data.evidence).toMatchObject({ ipAddress: "198.51.100.23" });
    const erased = await srv.gql(`mutation { eraseSubject(subjectId: "careful", reason: "asked") { status } }`, {}, await srv.token("dpo", "subject:admin"));
    expect(erased.errors).toBeUndefined();
    expect((await accepted()).data.evidence).toEqual({ erased: true });
  });
});

describe("§3 stopping collection and use", () => {
  it("any purpose that is not REQUIRED is withdrawn in the settings, and the decision follows at once", async () => {
    await record("settler", { acceptPolicy: true, grant: ["location"] });
    expect(await permission("settler", "location")).toEqual({ permitted: true, reason: "GRANTED" });
    expect((await record("settler", { withdraw: ["location", "traffic-analysis"] })).errors).toBeUndefined();
    expect(await permission("settler", "location")).toEqual({ permitted: false, reason: "WITHDRAWN" });
    expect(await permission("settler", "traffic-analysis")).toEqual({ permitted: false, reason: "WITHDRAWN" });
  });
});

describe("§3 disclosure after an identity check", () => {
  it("a DISCLOSURE request is opened by the user, verified and answered by the officer with the subject's export, due on time", async () => {
    await record("asker", { acceptPolicy: true });
    const opened = await srv.gql<{ openDataRequest: { id: string; status: string; overdue: boolean } }>(
      `mutation { openDataRequest(input: { kind: DISCLOSURE, note: "開示をお願いします" }) { id status overdue } }`,
      {},
      await srv.token("asker", "consent:self"),
    );
    expect(opened.data!.openDataRequest).toMatchObject({ status: "OPEN", overdue: false });
    const id = opened.data!.openDataRequest.id;
    const officer = await srv.token("officer", "subject:admin ledger:read");
    const verified = await srv.gql<{ verifyDataRequestIdentity: { status: string; identityCheck: string } }>(
      `mutation($id: ID!) { verifyDataRequestIdentity(id: $id, method: "document: 運転免許証") { status identityCheck } }`,
      { id },
      officer,
    );
    expect(verified.data!.verifyDataRequestIdentity).toEqual({ status: "IDENTITY_VERIFIED", identityCheck: "document: 運転免許証" });
    const exported = await srv.gql<{ subjectExport: { dataRequests: { id: string }[]; parties: { piiPrincipal: { id: string } } } }>(
      `query { subjectExport(subjectId: "asker") }`,
      {},
      officer,
    );
    expect(exported.data!.subjectExport.parties.piiPrincipal.id).toBe("asker");
    expect(exported.data!.subjectExport.dataRequests.map((r) => r.id)).toEqual([id]);
    const closed = await srv.gql<{ closeDataRequest: { status: string; note: string } }>(
      `mutation($id: ID!) { closeDataRequest(id: $id, fulfilled: true, note: "書面で開示") { status note } }`,
      { id },
      officer,
    );
    expect(closed.data!.closeDataRequest).toEqual({ status: "FULFILLED", note: "書面で開示" });
  });
});
