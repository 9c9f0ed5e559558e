// The third edition's refusals and records (the ledger guards the law; evidence of what people were
// shown), through the API on SQLite and on PostgreSQL: each refusal has its code and appends nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { type TestServer, startTestServer } from "../support/harness.js";
import { freshDatabase } from "../support/postgres.js";
import { Client, R, sha256 } from "./guards-support.js";

const BACKENDS: [string, () => Promise<Record<string, string>>][] = [
  ["SQLite", async () => ({})],
  ["PostgreSQL", async () => ({ DATABASE_URL: await freshDatabase("guards") })],
];

const SEED_TEXT = readFileSync("data/privacy-policy.ja.txt", "utf8");
const PROVIDER = { name: "株式会社ソース", address: "東京都千代田区1-1", representative: "代表取締役 鈴木一郎", acquisition: "本人の同意を得て自社サービスで取得" };

describe.each(BACKENDS)("the ledger guards the law on %s", (_name, env) => {
  let srv: TestServer;
  let c: Client;
  beforeAll(async () => {
    srv = await startTestServer({ env: await env() });
    c = new Client(srv);
    // v2: recipients of every kind the transfer checks tell apart (none needs consent: THIRD_PARTY only on the OPT_IN purpose).
    const v2 = await c.publish((ps) =>
      ps.map((p) =>
        p.id === "third-party-provision"
          ? { ...p, recipients: [R.partnerSg] }
          : p.id === "service-provision"
            ? { ...p, recipients: [R.processorDe, R.processorSg, R.processorSgEm, R.jointSg, R.jointJp] }
            : p,
      ),
    );
    expect(v2.errors).toBeUndefined();
    // v3, in effect only tomorrow, names one more recipient.
    const v3 = await c.publish((ps) => ps.map((p) => (p.id === "third-party-provision" ? { ...p, recipients: [...p.recipients, R.futureSg] } : p)), {
      effectiveAt: c.ledger.now() + 86_400_000,
    });
    expect(v3.errors).toBeUndefined();
  });
  afterAll(() => srv.close());

  describe("CONSENT_REQUIRED_CHANGE", () => {
    it("refuses, appending nothing, a version without requiresConsent that loosens a purpose, adds one that is not OPT_IN, or adds a THIRD_PARTY recipient to one", async () => {
      const before = await c.position();
      const loosened = await c.publish((ps) => [
        ...ps.map((p) => (p.id === "location" ? { ...p, mode: "OPT_OUT" } : p.id === "access-analytics" ? { ...p, mode: "REQUIRED" } : p)),
        { id: "profiling", title: "位置情報によるプロファイリング", mode: "REQUIRED", basis: "CONTRACT", dataCategories: ["location"], recipients: [] },
      ]);
      expect(loosened.code).toBe("CONSENT_REQUIRED_CHANGE");
      expect(loosened.errors![0]!.extensions).toMatchObject({
        changes: [
          { purposeId: "access-analytics", change: "OPT_OUT_TO_REQUIRED" },
          { purposeId: "location", change: "OPT_IN_TO_OPT_OUT" },
          { purposeId: "profiling", change: "ADDED_REQUIRED" },
        ],
      });
      const recipient = await c.publish((ps) => ps.map((p) => (p.id === "external-analytics" ? { ...p, recipients: [...p.recipients, R.partnerSg] } : p)));
      expect(recipient.errors![0]!.extensions).toMatchObject({ code: "CONSENT_REQUIRED_CHANGE", changes: [{ purposeId: "external-analytics", change: "THIRD_PARTY_RECIPIENT_ADDED" }] });
      const required = await c.publish((ps) => ps.map((p) => (p.id === "linked-accounts" ? { ...p, mode: "REQUIRED" } : p)));
      expect(required.errors![0]!.extensions).toMatchObject({ changes: [{ purposeId: "linked-accounts", change: "OPT_IN_TO_REQUIRED" }] });
      const added = await c.publish((ps) => [...ps, { id: "newsletter", title: "お知らせ", mode: "OPT_OUT", basis: "LEGITIMATE_INTEREST", dataCategories: ["contact"], recipients: [] }]);
      expect(added.errors![0]!.extensions).toMatchObject({ changes: [{ purposeId: "newsletter", change: "ADDED_OPT_OUT" }] });
      expect(await c.position()).toBe(before);
    });

    it("publishes tightening and OPT_IN additions without consent", async () => {
      // From the purposes of v3 (in effect tomorrow) without the recipient only v3 adds.
      const tightened = await c.publish((ps) => [
        ...ps.map((p) => ({ ...p, recipients: p.recipients.filter((x) => x.id !== R.futureSg.id) })).map((p) => (p.id === "traffic-analysis" ? { ...p, mode: "OPT_IN", basis: "CONSENT" } : p)),
        { id: "survey", title: "アンケート", mode: "OPT_IN", basis: "CONSENT", dataCategories: ["contact"], recipients: [R.partnerSg] },
      ]);
      expect(tightened.errors).toBeUndefined();
    });
  });

  describe("transfers checked, not only recorded (TRANSFER_NOT_PERMITTED)", () => {
    const refused = async (input: Record<string, unknown>, reason: string) => {
      const before = await c.position();
      const res = await c.transfer(input);
      expect(res.code, JSON.stringify(res.errors)).toBe("TRANSFER_NOT_PERMITTED");
      expect(res.errors![0]!.extensions).toMatchObject({ reason });
      expect(await c.position()).toBe(before);
    };

    it("refuses a recipient that no version in effect at occurredAt names", async () => {
      await refused({ subjectIds: ["t-never"], counterpartyId: "future-sg", basis: "OUTSOURCING" }, "RECIPIENT_NOT_IN_EFFECT");
    });

    it("refuses outsourcing, joint use or business succession abroad without equivalent measures or an adequate country", async () => {
      for (const basis of ["OUTSOURCING", "BUSINESS_SUCCESSION"]) await refused({ subjectIds: ["t-never"], counterpartyId: "processor-sg", basis }, "NO_EQUIVALENT_MEASURES");
      await refused({ subjectIds: ["t-never"], counterpartyId: "joint-sg", basis: "JOINT_USE" }, "NO_EQUIVALENT_MEASURES");
      // Equivalent measures, an adequate country (DE, in the default ADEQUATE_COUNTRIES) or Japan pass.
      for (const counterpartyId of ["processor-sg-em", "processor-de"]) expect((await c.transfer({ subjectIds: ["t-ok"], counterpartyId, basis: "OUTSOURCING" })).errors).toBeUndefined();
      expect((await c.transfer({ subjectIds: ["t-ok"], counterpartyId: "joint-jp", basis: "JOINT_USE" })).errors).toBeUndefined();
    });

    it("refuses joint use with a recipient that is not a JOINT_USER", async () => {
      await refused({ subjectIds: ["t-never"], counterpartyId: "processor-de", basis: "JOINT_USE" }, "NOT_A_JOINT_USER");
    });

    it("refuses a provision for a suspended subject unless the law asks for it", async () => {
      expect((await c.record("t-susp", { policyVersion: await c.current(), acceptPolicy: true })).errors).toBeUndefined();
      expect((await c.as("officer", "subject:admin", `mutation { suspendProcessing(subjectId: "t-susp") { status } }`)).errors).toBeUndefined();
      await refused({ subjectIds: ["t-susp"], counterpartyId: "processor-de", basis: "OUTSOURCING", purposeId: "service-provision" }, "SUBJECT_SUSPENDED");
      for (const basis of ["LAW", "VITAL_INTEREST", "PUBLIC_HEALTH", "GOVERNMENT"])
        expect((await c.transfer({ subjectIds: ["t-susp"], counterpartyId: "processor-de", basis })).errors).toBeUndefined();
    });

    it("a grant covers the data categories its purpose listed; a CONSENT provision naming another is refused", async () => {
      expect((await c.record("t-cat", { policyVersion: await c.current(), acceptPolicy: true, grant: ["third-party-provision"] })).errors).toBeUndefined();
      const states = await c.as<{ subject: { consents: { purpose: { id: string }; coveredDataCategories: string[] }[] } }>(
        "svc",
        "consent:read",
        `{ subject(id: "t-cat") { consents { purpose { id } coveredDataCategories } } }`,
      );
      const covered = Object.fromEntries(states.data!.subject.consents.map((s) => [s.purpose.id, s.coveredDataCategories]));
      expect(covered["third-party-provision"]).toEqual(["profile", "contact"]);
      expect(covered["location"]).toEqual([]);
      const base = { subjectIds: ["t-cat"], counterpartyId: "partner-sg", basis: "CONSENT", purposeId: "third-party-provision" };
      await refused({ ...base, dataCategories: ["location", "profile"] }, "CATEGORY_NOT_COVERED");
      expect((await c.transfer({ ...base, dataCategories: ["profile", "contact"] })).errors).toBeUndefined();
    });
  });

  describe("records of receipt", () => {
    it("need the provider (BAD_USER_INPUT otherwise), return it, export it, and keep it through erasure", async () => {
      const before = await c.position();
      const bare = await c.transfer({ subjectIds: ["t-recv"], direction: "RECEIVED", counterpartyId: "partner-sg", basis: "CONSENT", purposeId: "third-party-provision" });
      expect(bare.code).toBe("BAD_USER_INPUT");
      const empty = await c.transfer({ subjectIds: ["t-recv"], direction: "RECEIVED", counterpartyId: "partner-sg", basis: "LAW", provider: { ...PROVIDER, address: " " } });
      expect(empty.code).toBe("BAD_USER_INPUT");
      const onProvision = await c.transfer({ subjectIds: ["t-recv"], counterpartyId: "processor-de", basis: "LAW", provider: PROVIDER });
      expect(onProvision.code).toBe("BAD_USER_INPUT");
      expect(await c.position()).toBe(before);

      const ok = await c.transfer({ subjectIds: ["t-recv"], direction: "RECEIVED", counterpartyId: "partner-sg", basis: "LAW", provider: PROVIDER });
      expect(ok.errors).toBeUndefined();
      expect(ok.data!.recordThirdPartyTransfer[0]).toMatchObject({ direction: "RECEIVED", provider: PROVIDER, counterparty: { id: "partner-sg", equivalentMeasures: false } });
      expect((await c.as("officer", "subject:admin", `mutation { eraseSubject(subjectId: "t-recv") { status } }`)).errors).toBeUndefined();
      const kept = await c.as<{ thirdPartyTransfers: { provider: unknown }[] }>("auditor", "ledger:read", `{ thirdPartyTransfers(subjectId: "t-recv") { provider { name address representative acquisition } } }`);
      expect(kept.data!.thirdPartyTransfers).toEqual([{ provider: PROVIDER }]);
      const x = await c.as<{ subjectExport: { thirdPartyTransfers: { provider: unknown }[] } }>("auditor", "ledger:read", `{ subjectExport(subjectId: "t-recv") }`);
      expect(x.data!.subjectExport.thirdPartyTransfers).toEqual([expect.objectContaining({ direction: "RECEIVED", provider: PROVIDER })]);
    });
  });

  describe("data-request decisions", () => {
    it("a rejection needs its reason; extensions stop at DATA_REQUEST_MAX_EXTENSION_DAYS in total", async () => {
      const { id } = (await c.openRequest("t-req", "CORRECTION")).data!.openDataRequest;
      const before = await c.position();
      const close = (vars: Record<string, unknown>) =>
        c.as<{ closeDataRequest: { status: string; note: string } }>("officer", "subject:admin", `mutation($id: ID!, $n: String) { closeDataRequest(id: $id, fulfilled: false, note: $n) { status note } }`, { id, ...vars });
      expect((await close({})).code).toBe("BAD_USER_INPUT");
      expect((await close({ n: "  " })).code).toBe("BAD_USER_INPUT");
      const extend = (days: number, reason = "繁忙") =>
        c.as("officer", "subject:admin", `mutation($id: ID!, $d: Int!, $r: String!) { extendDataRequest(id: $id, days: $d, reason: $r) { dueAt } }`, { id, d: days, r: reason });
      expect((await extend(61)).code).toBe("BAD_USER_INPUT");
      expect(await c.position()).toBe(before);
      expect((await extend(45, "資料の取り寄せに時間を要するため")).errors).toBeUndefined();
      expect((await extend(15, "資料の取り寄せに時間を要するため")).errors).toBeUndefined();
      const after = await c.position();
      expect((await extend(1)).code).toBe("BAD_USER_INPUT");
      expect(await c.position()).toBe(after);
      expect((await close({ n: "訂正の対象となる情報を保有していません" })).data!.closeDataRequest).toMatchObject({ status: "REJECTED", note: "訂正の対象となる情報を保有していません" });
    });

    it("two extensions sent at once whose sum passes the cap: exactly one is accepted, decided in the extending transaction", async () => {
      const { id } = (await c.openRequest("t-race", "DISCLOSURE")).data!.openDataRequest;
      const extend = (days: number) =>
        c.as<{ extendDataRequest: { dueAt: string } }>("officer", "subject:admin", `mutation($id: ID!, $d: Int!) { extendDataRequest(id: $id, days: $d, reason: "調査") { dueAt } }`, { id, d: days });
      const answers = await Promise.all([extend(40), extend(40), extend(40)]);
      expect(answers.filter((a) => a.errors === undefined)).toHaveLength(1);
      expect(answers.filter((a) => a.code === "BAD_USER_INPUT")).toHaveLength(2);
      const history = await c.as<{ events: { edges: { node: { type: string } }[] } }>("auditor", "ledger:read", `{ events(subjectId: "t-race", first: 50) { edges { node { type } } } }`);
      expect(history.data!.events.edges.filter((e) => e.node.type === "DataRequestExtended")).toHaveLength(1);
      expect((await extend(20)).errors).toBeUndefined();
      expect((await extend(1)).code).toBe("BAD_USER_INPUT");
    });

    it("a DISCLOSURE for an erased subject is opened by subject:admin only, and its export holds the transfer records", async () => {
      expect((await c.transfer({ subjectIds: ["t-gone"], counterpartyId: "processor-de", basis: "LAW" })).errors).toBeUndefined();
      expect((await c.as("officer", "subject:admin", `mutation { eraseSubject(subjectId: "t-gone") { status } }`)).errors).toBeUndefined();
      const before = await c.position();
      expect((await c.openRequest("t-gone", "DISCLOSURE")).code).toBe("SUBJECT_INACTIVE");
      expect((await c.openRequest("t-gone", "CORRECTION", "subject:admin", "officer")).code).toBe("SUBJECT_INACTIVE");
      expect(await c.position()).toBe(before);
      const opened = await c.openRequest("t-gone", "DISCLOSURE", "subject:admin", "officer");
      expect(opened.data!.openDataRequest.status).toBe("OPEN");
      const x = await c.as<{ subjectExport: { header: { subjectStatus: string }; thirdPartyTransfers: unknown[]; dataRequests: { kind: string }[] } }>(
        "officer",
        "ledger:read subject:admin",
        `{ subjectExport(subjectId: "t-gone", reason: "開示請求への回答") }`,
      );
      expect(x.data!.subjectExport.header.subjectStatus).toBe("ERASED");
      expect(x.data!.subjectExport.thirdPartyTransfers).toEqual([expect.objectContaining({ counterparty: expect.objectContaining({ id: "processor-de" }), basis: "LAW" })]);
      expect(x.data!.subjectExport.dataRequests).toEqual([expect.objectContaining({ kind: "DISCLOSURE" })]);
    });
  });

  describe("who read personal evidence (PersonalDataAccessed)", () => {
    it("every subjectExport and every reading of another's sealed evidence is noted with the actor, what was read and the reason, changing no consent", async () => {
      expect((await c.record("t-read", { policyVersion: await c.current(), acceptPolicy: true, grant: ["location"], evidence: { ipAddress: "198.51.100.7" } })).errors).toBeUndefined();
      const consents = async () => (await c.as<{ subject: { consents: unknown[] } }>("svc", "consent:read", `{ subject(id: "t-read") { consents { purpose { id } permitted reason } } }`)).data!.subject.consents;
      const before = await consents();
      await c.as("auditor", "ledger:read", `query($s: ID!, $r: String) { subjectExport(subjectId: $s, reason: $r) }`, { s: "t-read", r: "監査" });
      await c.as("t-read", "consent:self", `{ subjectExport(subjectId: "t-read") }`);
      // The auditor opens the sealed evidence in the history (noted once for the answer); the subject reading its own is not.
      await c.as("auditor", "ledger:read", `{ subject(id: "t-read") { history { edges { node { type data } } } } }`);
      await c.as("t-read", "consent:self", `{ me { history { edges { node { type data } } } } }`);
      const h = await c.as<{ subject: { history: { edges: { node: { type: string; actor: { kind: string; id: string }; data: Record<string, unknown> } }[] } } }>(
        "t-read",
        "consent:self",
        `{ subject(id: "t-read") { history { edges { node { type actor { kind id } data } } } } }`,
      );
      const notes = h.data!.subject.history.edges.map((e) => e.node).filter((n) => n.type === "PersonalDataAccessed");
      expect(notes).toEqual([
        { type: "PersonalDataAccessed", actor: { kind: "OFFICER", id: "auditor" }, data: { read: "subjectExport", reason: "監査" } },
        { type: "PersonalDataAccessed", actor: { kind: "SUBJECT", id: "t-read" }, data: { read: "subjectExport" } },
        { type: "PersonalDataAccessed", actor: { kind: "OFFICER", id: "auditor" }, data: { read: "sealed evidence in events" } },
      ]);
      expect(await consents()).toEqual(before);
      // A subject the ledger holds nothing of gets no record by being read.
      const start = await c.position();
      expect((await c.as("auditor", "ledger:read", `{ subjectExport(subjectId: "t-nobody") }`)).errors).toBeUndefined();
      expect(await c.position()).toBe(start);
    });
  });

  describe("evidence of what people were shown", () => {
    it("recordNoticeShown: consent:self for oneself, consent:write for anyone; changes no consent", async () => {
      const q = `mutation($input: NoticeShownInput!) { recordNoticeShown(input: $input) { type subjectId actor { kind id } data } }`;
      const self = await c.as<{ recordNoticeShown: Record<string, unknown> }>("t-notice", "consent:self", q, { input: { policyVersion: 1, channel: "web-banner", locale: "ja-JP", noticeId: "banner-2025" } });
      expect(self.data!.recordNoticeShown).toEqual({
        type: "NoticeShown",
        subjectId: "t-notice",
        actor: { kind: "SUBJECT", id: "t-notice" },
        data: { policyId: "clavis-privacy", version: 1, channel: "web-banner", locale: "ja-JP", noticeId: "banner-2025" },
      });
      const before = await c.position();
      expect((await c.as("someone", "consent:self", q, { input: { subjectId: "t-notice", policyVersion: 1, channel: "web", locale: "ja" } })).code).toBe("FORBIDDEN");
      expect((await c.as("svc", "consent:write", q, { input: { subjectId: "t-notice", policyVersion: 99, channel: "web", locale: "ja" } })).code).toBe("UNKNOWN_POLICY_VERSION");
      expect((await c.as("svc", "consent:write", q, { input: { subjectId: "t-notice", policyVersion: 1, channel: "", locale: "ja" } })).code).toBe("BAD_USER_INPUT");
      expect(await c.position()).toBe(before);
      expect((await c.as("svc", "consent:write", q, { input: { subjectId: "t-notice", policyVersion: 2, channel: "app", locale: "ja" } })).errors).toBeUndefined();
      expect(await c.types("t-notice")).toEqual(["NoticeShown", "NoticeShown"]);
      expect(await c.permission("t-notice", "access-analytics")).toEqual({ permitted: false, reason: "POLICY_NOT_ACCEPTED" });
    });

    it("documentText must be the text of documentDigest; GET /policies/<id>/<version> serves it with its digest as the ETag, the shipped text too", async () => {
      const before = await c.position();
      expect((await c.publish((ps) => ps, { documentText: "改定版", digest: sha256("別の文書") })).code).toBe("BAD_USER_INPUT");
      const long = "あ".repeat(200_001);
      expect((await c.publish((ps) => ps, { documentText: long })).code).toBe("BAD_USER_INPUT");
      expect(await c.position()).toBe(before);
      const text = `${SEED_TEXT}\n\n附則: 2026年改定`;
      const v = await c.publish((ps) => ps, { documentText: text });
      expect(v.errors).toBeUndefined();
      const { number, digest } = v.data!.publishPolicyVersion;
      const got = await fetch(new URL(`/policies/clavis-privacy/${number}`, srv.url));
      expect(got.status, await got.clone().text()).toBe(200);
      expect(got.headers.get("etag")).toBe(`"${digest}"`);
      expect(got.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(await got.text()).toBe(text);
      const shipped = await fetch(new URL(`/policies/clavis-privacy/1`, srv.url));
      expect(shipped.headers.get("etag")).toBe(`"${sha256(SEED_TEXT)}"`);
      expect(await shipped.text()).toBe(SEED_TEXT);
      expect((await fetch(new URL(`/policies/clavis-privacy/1`, srv.url), { headers: { "if-none-match": `"${sha256(SEED_TEXT)}"` } })).status).toBe(304);
      // A version published without its text, and one that does not exist, are not found.
      expect((await fetch(new URL(`/policies/clavis-privacy/2`, srv.url))).status).toBe(404);
      expect((await fetch(new URL(`/policies/clavis-privacy/999`, srv.url))).status).toBe(404);
      expect((await fetch(new URL(`/policies/nope/1`, srv.url))).status).toBe(404);
    });

    it("recordPolicyAnnouncement (policy:write) lists each announcement on PolicyVersion.announcements", async () => {
      const q = `mutation($v: Int!, $m: String!, $at: DateTime) { recordPolicyAnnouncement(policyId: "clavis-privacy", version: $v, method: $m, at: $at) { number announcements { method at } } }`;
      const before = await c.position();
      expect((await c.as("svc", "consent:write", q, { v: 2, m: "website" })).code).toBe("FORBIDDEN");
      expect((await c.as("dpo", "policy:write", q, { v: 99, m: "website" })).code).toBe("UNKNOWN_POLICY_VERSION");
      expect((await c.as("dpo", "policy:write", q, { v: 2, m: " " })).code).toBe("BAD_USER_INPUT");
      expect(await c.position()).toBe(before);
      const at = new Date(c.ledger.now() - 3_600_000).toISOString();
      expect((await c.as("dpo", "policy:write", q, { v: 2, m: "ウェブサイトへの掲載", at })).errors).toBeUndefined();
      const second = await c.as<{ recordPolicyAnnouncement: { number: number; announcements: { method: string; at: string }[] } }>("dpo", "policy:write", q, { v: 2, m: "電子メール" });
      expect(second.data!.recordPolicyAnnouncement.number).toBe(2);
      expect(second.data!.recordPolicyAnnouncement.announcements.map((a) => a.method)).toEqual(["ウェブサイトへの掲載", "電子メール"]);
      expect(second.data!.recordPolicyAnnouncement.announcements[0]!.at).toBe(at);
      const v1 = await c.as<{ policy: { versions: { announcements: unknown[] }[] } }>("reader", "consent:read", `{ policy(id: "clavis-privacy") { versions { announcements { method } } } }`);
      expect(v1.data!.policy.versions[0]!.announcements).toEqual([]);
    });
  });
});

describe("the operator's settings", () => {
  it("ADEQUATE_COUNTRIES replaces the list of adequate countries; DATA_REQUEST_MAX_EXTENSION_DAYS the extension cap", async () => {
    const srv = await startTestServer({ env: { ADEQUATE_COUNTRIES: "SG", DATA_REQUEST_MAX_EXTENSION_DAYS: "10" } });
    try {
      const c = new Client(srv);
      expect((await c.publish((ps) => ps.map((p) => (p.id === "service-provision" ? { ...p, recipients: [R.processorSg, R.processorDe] } : p)))).errors).toBeUndefined();
      expect((await c.transfer({ subjectIds: ["s1"], counterpartyId: "processor-sg", basis: "OUTSOURCING" })).errors).toBeUndefined();
      expect((await c.transfer({ subjectIds: ["s1"], counterpartyId: "processor-de", basis: "OUTSOURCING" })).errors![0]!.extensions).toMatchObject({ code: "TRANSFER_NOT_PERMITTED", reason: "NO_EQUIVALENT_MEASURES" });
      const { id } = (await c.openRequest("s2", "DISCLOSURE")).data!.openDataRequest;
      const extend = (d: number) => c.as("officer", "subject:admin", `mutation($id: ID!, $d: Int!) { extendDataRequest(id: $id, days: $d, reason: "調査") { dueAt } }`, { id, d });
      expect((await extend(11)).code).toBe("BAD_USER_INPUT");
      expect((await extend(10)).errors).toBeUndefined();
    } finally {
      await srv.close();
    }
  });
});
