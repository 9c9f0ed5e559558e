// The seed policy section by section (the table in docs/compliance.md), and the findings of the
// compliance review (1-8): each promise kept through the public API as a client would use it.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, startTestServer } from "../support/harness.js";
import { makeTempDir, recordConsentMutation } from "../support/common.js";
import { Client, type PurposeIn, R, sha256 } from "./guards-support.js";
import { receiptPayload } from "./support.js";

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

describe("§1(4) location only with individual consent", () => {
  it("location is OPT_IN with a 365-day consent lifetime: not permitted on accepting the policy, only on its own grant", async () => {
    const location = (await purposes()).get("location")!;
    expect(location).toMatchObject({ mode: "OPT_IN", dataCategories: ["location"] });
    await record("walker", { acceptPolicy: true });
    expect(await permission("walker", "location")).toEqual({ permitted: false, reason: "NOT_GRANTED" });
    await record("walker", { grant: ["location"] });
    const states = await srv.gql<{ subject: { consents: { purpose: { id: string; consentTtlDays: number }; expiresAt: string; since: string }[] } }>(
      `{ subject(id: "walker") { consents { purpose { id consentTtlDays } expiresAt since } } }`,
      {},
      await srv.token("svc", "consent:read"),
    );
    const state = states.data!.subject.consents.find((c) => c.purpose.id === "location")!;
    expect(state.purpose.consentTtlDays).toBe(365);
    expect(Date.parse(state.expiresAt) - Date.parse(state.since)).toBe(365 * 86_400_000);
  });
});

describe("§1(5) a service-specific policy takes precedence", () => {
  it("a policy that overrides the base one redefines a purpose for its service; the rest is inherited", async () => {
    const base = (await purposes()).get("access-analytics")!;
    const r = await srv.gql(
      `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { number } }`,
      {
        input: {
          policyId: "clavis-app",
          title: "アプリ個別ポリシー",
          overrides: "clavis-privacy",
          effectiveAt: "2024-01-01T00:00:00Z",
          requiresConsent: true,
          documentDigest: "a".repeat(64),
          purposes: [{ id: "access-analytics", title: "アプリの利用状況の分析（個別の同意による）", mode: "OPT_IN", basis: "CONSENT", dataCategories: base.dataCategories }],
        },
      },
      await srv.token("dpo", "policy:write"),
    );
    expect(r.errors).toBeUndefined();
    await record("app-user", { acceptPolicy: true });
    await srv.gql(RECORD, { input: { policyId: "clavis-app", policyVersion: 1, acceptPolicy: true } }, await srv.token("app-user", "consent:self"));
    const under = async (policyId: string, purposeId: string) =>
      (await srv.gql<{ permission: Decision }>(`query($p: ID!, $q: ID!) { permission(subjectId: "app-user", purposeId: $q, policyId: $p) { permitted reason } }`, { p: policyId, q: purposeId }, await srv.token("svc", "consent:read"))).data!.permission;
    expect(await under("clavis-app", "access-analytics")).toEqual({ permitted: false, reason: "NOT_GRANTED" });
    expect(await under("clavis-privacy", "access-analytics")).toEqual({ permitted: true, reason: "DEFAULT_OPT_OUT" });
    expect(await under("clavis-app", "service-provision")).toEqual({ permitted: true, reason: "REQUIRED_FOR_SERVICE" });
  });
});

describe("§4 external transmission (Telecommunications Business Act Art. 27-12)", () => {
  it("external-analytics is OPT_OUT with an EXTERNAL_MODULE recipient naming the provider, its country and its policy", async () => {
    const r = await srv.gql<{ externalTransmissions: { purposeId: string; recipient: { id: string; kind: string; country: string; privacyPolicyUrl: string }; optOutPurposeId: string }[] }>(
      `{ externalTransmissions { purposeId optOutPurposeId recipient { id kind country privacyPolicyUrl } } }`,
    );
    expect(r.data!.externalTransmissions).toEqual([
      { purposeId: "external-analytics", optOutPurposeId: "external-analytics", recipient: { id: "google-analytics", kind: "EXTERNAL_MODULE", country: "US", privacyPolicyUrl: expect.stringContaining("google.com") } },
    ]);
    expect((await purposes()).get("external-analytics")!.mode).toBe("OPT_OUT");
  });
});

describe("§5 third parties only with consent", () => {
  it("third-party-provision is OPT_IN and ships no recipient: no CONSENT-based provision passes until a version names one", async () => {
    expect((await purposes()).get("third-party-provision")).toMatchObject({ mode: "OPT_IN", basis: "CONSENT", dataCategories: ["profile", "contact"] });
    const r = await srv.gql<{ policy: { versions: { purposes: { id: string; recipients: unknown[] }[] }[] } }>(
      `{ policy(id: "clavis-privacy") { versions { purposes { id recipients { id } } } } }`,
      {},
      await srv.token("reader", "consent:read"),
    );
    expect(r.data!.policy.versions[0]!.purposes.find((p) => p.id === "third-party-provision")!.recipients).toEqual([]);
    await record("sharer", { acceptPolicy: true, grant: ["third-party-provision"] });
    const transfer = await srv.gql(
      `mutation { recordThirdPartyTransfer(input: { subjectIds: ["sharer"], direction: PROVIDED, counterpartyId: "google-analytics", purposeId: "third-party-provision", dataCategories: ["profile"], basis: CONSENT }) { id } }`,
      {},
      await srv.token("svc", "transfer:write"),
    );
    expect(transfer.code).toBe("TRANSFER_NOT_PERMITTED");
  });
});

describe("§6 changes need consent where the law asks, and are announced", () => {
  it("a version that loosens consent must say requiresConsent; people stay under theirs until they accept; its announcement is kept", async () => {
    const finding1 = await publishLoosening(false);
    expect(finding1.code).toBe("CONSENT_REQUIRED_CHANGE");
    const v = await publishLoosening(true);
    expect(v.errors).toBeUndefined();
    const number = v.data!.publishPolicyVersion.number;
    const announced = await srv.gql<{ recordPolicyAnnouncement: { announcements: { method: string }[] } }>(
      `mutation($v: Int!) { recordPolicyAnnouncement(policyId: "clavis-privacy", version: $v, method: "ウェブサイトへの掲載") { announcements { method } } }`,
      { v: number },
      await srv.token("dpo", "policy:write"),
    );
    expect(announced.data!.recordPolicyAnnouncement.announcements).toEqual([{ method: "ウェブサイトへの掲載" }]);
  });
});

/** A version that makes location OPT_OUT and adds a REQUIRED profiling purpose using location (finding 1). */
async function publishLoosening(requiresConsent: boolean) {
  const now = srv.app.services.ledger.now();
  const current = srv.app.services.ledger.catalog.get("clavis-privacy")!.versions.at(-1)!;
  return srv.gql<{ publishPolicyVersion: { number: number } }>(
    `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { number } }`,
    {
      input: {
        policyId: "clavis-privacy",
        title: current.title,
        effectiveAt: new Date(now - 1).toISOString(),
        requiresConsent,
        documentDigest: (requiresConsent ? "e" : "f").repeat(64),
        purposes: [
          ...current.purposes.map((p) => ({
            id: p.id,
            title: p.title,
            mode: p.id === "location" ? "OPT_OUT" : p.mode,
            basis: p.basis,
            dataCategories: p.dataCategories,
            consentTtlDays: p.consentTtlDays,
            recipients: (p.id === "third-party-provision" ? [{ id: "partner-sg", name: "Partner Pte. Ltd.", kind: "THIRD_PARTY", country: "SG" }] : p.recipients).map((r) => ({ ...r })),
          })),
          { id: "profiling", title: "位置情報を用いたプロファイリング", mode: "REQUIRED", basis: "CONTRACT", dataCategories: ["location"] },
        ],
      },
    },
    await srv.token("dpo", "policy:write"),
  );
}

// The findings of issue 22, each on a server of its own (the catalogue changes they make stay theirs).
describe("findings of the compliance review", () => {
  let own: TestServer;
  let c: Client;
  beforeAll(async () => {
    own = await startTestServer();
    c = new Client(own);
  });
  afterAll(() => own.close());

  it("finding 1: a version loosening location, adding a REQUIRED purpose using it and a Singapore recipient cannot be published without consent; no one who never granted location becomes permitted", async () => {
    expect((await c.record("f1", { policyVersion: 1, acceptPolicy: true })).errors).toBeUndefined();
    const before = await c.position();
    const change = (ps: PurposeIn[]): PurposeIn[] => [
      ...ps.map((p) => (p.id === "location" ? { ...p, mode: "OPT_OUT" } : p.id === "third-party-provision" ? { ...p, recipients: [R.partnerSg] } : p)),
      { id: "profiling", title: "位置情報を用いたプロファイリング", mode: "REQUIRED", basis: "CONTRACT", dataCategories: ["location"], recipients: [] },
    ];
    const refused = await c.publish(change, { requiresConsent: false });
    expect(refused.code).toBe("CONSENT_REQUIRED_CHANGE");
    expect(refused.errors![0]!.extensions!["changes"]).toEqual([
      { purposeId: "location", change: "OPT_IN_TO_OPT_OUT" },
      { purposeId: "profiling", change: "ADDED_REQUIRED" },
    ]);
    expect(await c.position()).toBe(before);
    expect((await c.publish(change, { requiresConsent: true })).errors).toBeUndefined();
    expect(await c.permission("f1", "location")).toEqual({ permitted: false, reason: "NOT_GRANTED" });
    expect(await c.permission("f1", "profiling")).toEqual({ permitted: false, reason: "NOT_IN_APPLICABLE_POLICY" });
  });

  it("finding 2: provisions are checked: suspension, joint use to a non-joint user abroad, a recipient not yet in effect, categories the consent does not cover", async () => {
    const v = await c.publish((ps) =>
      ps.map((p) => (p.id === "service-provision" ? { ...p, recipients: [R.processorSg] } : p.id === "third-party-provision" ? { ...p, recipients: [R.partnerSg] } : p)),
    );
    expect(v.errors).toBeUndefined();
    const later = await c.publish((ps) => ps.map((p) => (p.id === "third-party-provision" ? { ...p, recipients: [R.partnerSg, R.futureSg] } : p)), { effectiveAt: c.ledger.now() + 86_400_000 });
    expect(later.errors).toBeUndefined();
    const current = v.data!.publishPolicyVersion.number;
    expect((await c.record("f2-suspended", { policyVersion: current, acceptPolicy: true })).errors).toBeUndefined();
    await c.as("officer", "subject:admin", `mutation { suspendProcessing(subjectId: "f2-suspended") { status } }`);
    const reason = async (input: Record<string, unknown>) => (await c.transfer(input)).errors?.[0]?.extensions?.["reason"];
    expect(await reason({ subjectIds: ["f2-suspended"], counterpartyId: "partner-sg", basis: "LAW", purposeId: "third-party-provision" })).toBeUndefined();
    expect(await reason({ subjectIds: ["f2-suspended"], counterpartyId: "processor-sg", basis: "OUTSOURCING", purposeId: "service-provision" })).toBe("NO_EQUIVALENT_MEASURES");
    expect(await reason({ subjectIds: ["f2-never"], counterpartyId: "partner-sg", basis: "JOINT_USE" })).toBe("NOT_A_JOINT_USER");
    expect(await reason({ subjectIds: ["f2-never"], counterpartyId: "future-sg", basis: "JOINT_USE" })).toBe("RECIPIENT_NOT_IN_EFFECT");
    expect((await c.record("f2-granted", { policyVersion: current, acceptPolicy: true, grant: ["third-party-provision"] })).errors).toBeUndefined();
    expect(await reason({ subjectIds: ["f2-granted"], counterpartyId: "partner-sg", basis: "CONSENT", purposeId: "third-party-provision", dataCategories: ["location", "health"] })).toBe("CATEGORY_NOT_COVERED");
  });

  it("finding 3: a RECEIVED record keeps the provider's name, address, representative and how the data was obtained, through erasure", async () => {
    const provider = { name: "株式会社ソース", address: "大阪府大阪市1-2-3", representative: "代表取締役 佐藤花子", acquisition: "会員登録フォームで本人から取得" };
    expect((await c.transfer({ subjectIds: ["f3"], direction: "RECEIVED", counterpartyId: "partner-sg", basis: "LAW" })).code).toBe("BAD_USER_INPUT");
    expect((await c.transfer({ subjectIds: ["f3"], direction: "RECEIVED", counterpartyId: "partner-sg", basis: "LAW", provider, note: "個人的なメモ" })).errors).toBeUndefined();
    await c.as("officer", "subject:admin", `mutation { eraseSubject(subjectId: "f3") { status } }`);
    const kept = await c.as<{ thirdPartyTransfers: { provider: unknown }[] }>("auditor", "ledger:read", `{ thirdPartyTransfers(subjectId: "f3") { provider { name address representative acquisition } } }`);
    expect(kept.data!.thirdPartyTransfers).toEqual([{ provider }]);
  });

  it("finding 4: a rejection needs its reason, a 60-day extension for 繁忙 is capped, and an erased person's DISCLOSURE gets the transfer records", async () => {
    const { id } = (await c.openRequest("f4", "DISCLOSURE")).data!.openDataRequest;
    expect((await c.as("officer", "subject:admin", `mutation($id: ID!) { closeDataRequest(id: $id, fulfilled: false) { status } }`, { id })).code).toBe("BAD_USER_INPUT");
    const extend = (days: number) => c.as("officer", "subject:admin", `mutation($id: ID!, $d: Int!) { extendDataRequest(id: $id, days: $d, reason: "繁忙") { dueAt } }`, { id, d: days });
    expect((await extend(60)).errors).toBeUndefined();
    expect((await extend(1)).code).toBe("BAD_USER_INPUT");
    expect((await c.transfer({ subjectIds: ["f4-erased"], counterpartyId: "partner-sg", basis: "LAW" })).errors).toBeUndefined();
    await c.as("officer", "subject:admin", `mutation { eraseSubject(subjectId: "f4-erased") { status } }`);
    expect((await c.openRequest("f4-erased", "DISCLOSURE", "subject:admin", "officer")).data!.openDataRequest.status).toBe("OPEN");
    const x = await c.as<{ subjectExport: { thirdPartyTransfers: { counterparty: { id: string } }[] } }>("officer", "ledger:read", `{ subjectExport(subjectId: "f4-erased") }`);
    expect(x.data!.subjectExport.thirdPartyTransfers.map((t) => t.counterparty.id)).toEqual(["partner-sg"]);
  });

  it("finding 5: a receipt for accepting the policy lists what the acceptance permitted; a production start is refused while the controller lacks address, representative, contact or request procedure", async () => {
    const current = await c.current();
    const r = await c.record("f5", { policyVersion: current, acceptPolicy: true });
    const payload = receiptPayload(r.data!.recordConsent.receipt);
    const permitted = c.ledger.catalog.get("clavis-privacy")!.versions[current - 1]!.purposes.filter((p) => p.mode !== "OPT_IN").map((p) => p.id);
    expect(permitted).toEqual(expect.arrayContaining(["service-provision", "access-analytics", "location", "profiling"]));
    expect(payload.services[0]!.purposes.map((p) => p["purposeId"])).toEqual(permitted);
    expect(payload.services[0]!.purposes.find((p) => p["purposeId"] === "service-provision")).toMatchObject({ primaryPurpose: true });
    await expect(startTestServer({ env: await productionEnv() })).rejects.toThrow(
      "refusing to start: NODE_ENV=production needs the catalogue's controller of clavis-privacy to name its address, representative, contact, requestProcedure (publish a version with them; see docs/compliance.md)",
    );
  });

  it("finding 6: a notice shown is recorded, the text behind the digest is served, and an announcement is kept", async () => {
    const shown = await c.as<{ recordNoticeShown: { type: string } }>("f6", "consent:self", `mutation { recordNoticeShown(input: { policyVersion: 1, channel: "web-banner", locale: "ja-JP" }) { type } }`);
    expect(shown.data!.recordNoticeShown.type).toBe("NoticeShown");
    const text = await fetch(new URL("/policies/clavis-privacy/1", own.url));
    expect(text.headers.get("etag")).toBe(`"${sha256(readFileSync("data/privacy-policy.ja.txt", "utf8"))}"`);
    expect(await text.text()).toBe(readFileSync("data/privacy-policy.ja.txt", "utf8"));
    const a = await c.as<{ recordPolicyAnnouncement: { announcements: { method: string }[] } }>("dpo", "policy:write", `mutation { recordPolicyAnnouncement(policyId: "clavis-privacy", version: 1, method: "ウェブサイトへの掲載") { announcements { method } } }`);
    expect(a.data!.recordPolicyAnnouncement.announcements).toEqual([{ method: "ウェブサイトへの掲載" }]);
  });

  it("finding 7: subjectExport leaves a PersonalDataAccessed event naming who read it and why", async () => {
    expect((await c.record("f7", { policyVersion: await c.current(), acceptPolicy: true })).errors).toBeUndefined();
    await c.as("auditor", "ledger:read", `{ subjectExport(subjectId: "f7", reason: "開示請求への対応") }`);
    const h = await c.as<{ subject: { history: { edges: { node: { type: string; actor: { id: string }; data: Record<string, unknown> } }[] } } }>("auditor", "ledger:read", `{ subject(id: "f7") { history { edges { node { type actor { id } data } } } } }`);
    expect(h.data!.subject.history.edges.map((e) => e.node).filter((n) => n.type === "PersonalDataAccessed")[0]).toEqual({
      type: "PersonalDataAccessed",
      actor: { id: "auditor" },
      data: { read: "subjectExport", reason: "開示請求への対応" },
    });
  });

  it("finding 8: a catalogue file whose text was edited under an existing version number stops the start, and nothing is published", async () => {
    const dataDir = makeTempDir("finding8-");
    const first = await startTestServer({ dataDir });
    await first.close();
    const dir = makeTempDir("finding8-catalogue-");
    mkdirSync(join(dir, "policies"));
    copyFileSync("data/policies/clavis-privacy.v1.json", join(dir, "policies", "clavis-privacy.v1.json"));
    writeFileSync(join(dir, "privacy-policy.ja.txt"), `${readFileSync("data/privacy-policy.ja.txt", "utf8")}\n（改定）`);
    const start = startTestServer({ dataDir, env: { CATALOG_DIR: join(dir, "policies") } });
    await expect(start).rejects.toThrow(/^catalogue .*clavis-privacy\.v1\.json: version 1 of clavis-privacy is already published with another text .*; give the edited text a new version number$/);
    const again = await startTestServer({ dataDir });
    expect(again.app.services.ledger.catalog.get("clavis-privacy")!.versions).toHaveLength(1);
    await again.close();
  });
});

/** What a production start needs besides the controller: tokens from a JWKS file, an evidence key apart from the data. */
async function productionEnv(): Promise<Record<string, string>> {
  const dir = makeTempDir("production-");
  const { publicKey } = await generateKeyPair("ES256");
  writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" }] }));
  return { NODE_ENV: "production", AUTH_JWKS_FILE: join(dir, "jwks.json"), AUTH_ISSUER: "https://issuer.example", AUTH_AUDIENCE: "consent-ledger", EVIDENCE_KEK_FILE: join(dir, "evidence.kek") };
}
