// §3 and §6 lifecycle: superseded versions, re-accepting, coming back, merging identities, scoped suspension, request due days.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countEvents } from "../api/helpers.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { publishWithRecipients } from "./support.js";
import { recordConsentMutation } from "../support/common.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ env: { DATA_REQUEST_DUE_DAYS: "14", DATA_REQUEST_DUE_DAYS_DELETION: "7" } });
});
afterAll(() => srv.close());

const RECORD = recordConsentMutation(`subject { status version } events { type } receipt`);
const PERMISSION = `query($s: ID!, $p: ID!) { permission(subjectId: $s, purposeId: $p) { permitted reason } }`;
const SUBJECT = `query($s: ID!) { subject(id: $s) { id status version consents { purpose { id } status permitted } } }`;
type Recorded = { recordConsent: { subject: { status: string; version: number }; events: { type: string }[]; receipt: string } };
const permission = async (s: string, p: string) => (await srv.gql<{ permission: { permitted: boolean; reason: string } }>(PERMISSION, { s, p }, await srv.token("svc", "consent:read"))).data!.permission;

describe("§6 changes: accepting versions", () => {
  it("finding 6: re-accepting the accepted version appends nothing and returns the subject as it is", async () => {
    const self = await srv.token("banner", "consent:self");
    const first = await srv.gql<Recorded>(RECORD, { input: { policyVersion: 1, acceptPolicy: true } }, self);
    expect(first.data!.recordConsent.subject.version).toBe(1);
    const before = await countEvents(srv, await srv.token("a", "ledger:read"));
    const again = await srv.gql<Recorded>(RECORD, { input: { policyVersion: 1, acceptPolicy: true, expectedVersion: 1 } }, self);
    expect(again.errors).toBeUndefined();
    expect(again.data!.recordConsent).toMatchObject({ subject: { status: "ACTIVE", version: 1 }, events: [] });
    expect(again.data!.recordConsent.receipt.split(".")).toHaveLength(3);
    expect(await countEvents(srv, await srv.token("a", "ledger:read"))).toBe(before);
  });

  it("finding 6: a new user cannot accept a superseded version; a back-dated import of what was current then can", async () => {
    await publishWithRecipients(srv, [], { requiresConsent: true, digestChar: "a" });
    const r = await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true } }, await srv.token("newcomer", "consent:self"));
    expect(r.code).toBe("POLICY_VERSION_SUPERSEDED");
    const imported = await srv.gql<Recorded>(
      RECORD,
      { input: { subjectId: "imported", policyVersion: 1, acceptPolicy: true, occurredAt: "2024-01-01T00:00:00Z" } },
      await srv.token("importer", "consent:write"),
    );
    expect(imported.errors).toBeUndefined();
    expect(imported.data!.recordConsent.events.map((e) => e.type)).toEqual(["PolicyAccepted"]);
  });

  it("granting a REQUIRED purpose is BAD_USER_INPUT: accepting the policy gives it", async () => {
    const r = await srv.gql(RECORD, { input: { policyVersion: 2, acceptPolicy: true, grant: ["service-provision"] } }, await srv.token("eager", "consent:self"));
    expect(r.code).toBe("BAD_USER_INPUT");
  });
});

describe("§3 stopping use: leaving and coming back", () => {
  it("finding 7: a subject who left comes back by accepting the current version; earlier opt-in grants stay behind", async () => {
    const self = await srv.token("returner", "consent:self");
    expect((await srv.gql(RECORD, { input: { policyVersion: 2, acceptPolicy: true, grant: ["location"] } }, self)).errors).toBeUndefined();
    expect((await srv.gql(`mutation { leaveService { status } }`, {}, self)).errors).toBeUndefined();
    expect((await srv.gql(RECORD, { input: { policyVersion: 2, grant: ["location"] } }, self)).code).toBe("SUBJECT_INACTIVE");
    const back = await srv.gql<Recorded>(RECORD, { input: { policyVersion: 2, acceptPolicy: true } }, self);
    expect(back.errors).toBeUndefined();
    expect(back.data!.recordConsent.subject.status).toBe("ACTIVE");
    expect(back.data!.recordConsent.events.map((e) => e.type)).toEqual(["SubjectReturned", "PolicyAccepted"]);
    expect(await permission("returner", "location")).toMatchObject({ permitted: false, reason: "NOT_GRANTED" });
    expect(await permission("returner", "service-provision")).toMatchObject({ permitted: true });
  });

  it("ERASED stays final", async () => {
    const self = await srv.token("gone", "consent:self");
    await srv.gql(RECORD, { input: { policyVersion: 2, acceptPolicy: true } }, self);
    await srv.gql(`mutation { eraseSubject(subjectId: "gone") { status } }`, {}, await srv.token("officer", "subject:admin"));
    expect((await srv.gql(RECORD, { input: { policyVersion: 2, acceptPolicy: true } }, self)).code).toBe("SUBJECT_INACTIVE");
  });
});

describe("merging identities (an anonymous visitor becomes an account)", () => {
  it("per purpose the later choice wins; `from` becomes MERGED and its reads answer for `into`; both keep their history", async () => {
    const device = await srv.token("device-1", "consent:self");
    const account = await srv.token("account-1", "consent:self");
    await srv.gql(RECORD, { input: { policyVersion: 2, acceptPolicy: true, withdraw: ["access-analytics"] } }, account);
    await srv.gql(RECORD, { input: { policyVersion: 2, acceptPolicy: true, grant: ["location"], withdraw: ["external-analytics"] } }, device);
    await srv.gql(RECORD, { input: { policyVersion: 2, grant: ["access-analytics"] } }, device);
    const MERGE = `mutation($f: ID!, $i: ID!) { mergeSubjects(from: $f, into: $i) { id status } }`;
    expect((await srv.gql(MERGE, { f: "device-1", i: "account-1" }, await srv.token("app", "consent:read"))).code).toBe("FORBIDDEN");
    const r = await srv.gql<{ mergeSubjects: { id: string; status: string } }>(MERGE, { f: "device-1", i: "account-1" }, await srv.token("app", "consent:write"));
    expect(r.errors).toBeUndefined();
    expect(r.data!.mergeSubjects).toEqual({ id: "account-1", status: "ACTIVE" });
    // The device's later choices won: location granted, external analytics withdrawn, access analytics granted again.
    for (const s of ["account-1", "device-1"]) {
      expect(await permission(s, "location")).toMatchObject({ permitted: true, reason: "GRANTED" });
      expect(await permission(s, "external-analytics")).toMatchObject({ permitted: false, reason: "WITHDRAWN" });
      expect(await permission(s, "access-analytics")).toMatchObject({ permitted: true, reason: "GRANTED" });
    }
    const from = await srv.gql<{ subject: { status: string } }>(SUBJECT, { s: "device-1" }, await srv.token("svc", "consent:read"));
    expect(from.data!.subject.status).toBe("MERGED");
    expect((await srv.gql(MERGE, { f: "device-1", i: "account-1" }, await srv.token("app", "consent:write"))).code).toBe("SUBJECT_INACTIVE");
    expect((await srv.gql(MERGE, { f: "account-1", i: "account-1" }, await srv.token("app", "consent:write"))).code).toBe("BAD_USER_INPUT");
    const history = await srv.gql<{ subject: { history: { edges: { node: { type: string } }[] } } }>(
      `query { subject(id: "device-1") { history { edges { node { type } } } } }`,
      {},
      await srv.token("a", "ledger:read"),
    );
    expect(history.data!.subject.history.edges.map((e) => e.node.type).at(-1)).toBe("SubjectMerged");
  });
  it("an account id that looks like contact data is refused as a new subject, as anywhere else", async () => {
    await srv.gql(RECORD, { input: { policyVersion: 2, acceptPolicy: true } }, await srv.token("device-2", "consent:self"));
    const r = await srv.gql(`mutation { mergeSubjects(from: "device-2", into: "someone@example.com") { id } }`, {}, await srv.token("app", "consent:write"));
    expect(r.code).toBe("BAD_USER_INPUT");
    expect((await srv.gql<{ subject: { status: string } }>(SUBJECT, { s: "device-2" }, await srv.token("svc", "consent:read"))).data!.subject.status).toBe("ACTIVE");
  });
});

describe("§3 data requests: scoped suspension, due days per kind, extensions", () => {
  const OPEN = `mutation($input: OpenDataRequestInput!) { openDataRequest(input: $input) { id kind openedAt dueAt purposeIds } }`;
  const officer = () => srv.token("officer", "subject:admin consent:read");

  it("finding 8: a SUSPENSION that names third-party-provision stops only it, and the subject stays ACTIVE", async () => {
    const self = await srv.token("sus", "consent:self");
    await srv.gql(RECORD, { input: { policyVersion: 2, acceptPolicy: true, grant: ["third-party-provision", "location"] } }, self);
    const opened = await srv.gql<{ openDataRequest: { id: string; purposeIds: string[] } }>(
      OPEN,
      { input: { kind: "SUSPENSION", note: "第三者提供だけ止めてほしい", purposeIds: ["third-party-provision"] } },
      self,
    );
    expect(opened.errors).toBeUndefined();
    const id = opened.data!.openDataRequest.id;
    await srv.gql(`mutation($id: ID!) { verifyDataRequestIdentity(id: $id, method: "account-login: signed in") { status } }`, { id }, await officer());
    expect((await srv.gql(`mutation($id: ID!) { closeDataRequest(id: $id, fulfilled: true) { status } }`, { id }, await officer())).errors).toBeUndefined();
    expect(await permission("sus", "third-party-provision")).toMatchObject({ permitted: false, reason: "SUBJECT_SUSPENDED" });
    expect(await permission("sus", "service-provision")).toMatchObject({ permitted: true });
    expect(await permission("sus", "location")).toMatchObject({ permitted: true });
    const s = await srv.gql<{ subject: { status: string } }>(SUBJECT, { s: "sus" }, await srv.token("svc", "consent:read"));
    expect(s.data!.subject.status).toBe("ACTIVE");
  });

  it("due days come per kind (DATA_REQUEST_DUE_DAYS_DELETION), and extendDataRequest moves dueAt with a reason", async () => {
    const self = await srv.token("req", "consent:self");
    const del = (await srv.gql<{ openDataRequest: { id: string; openedAt: string; dueAt: string } }>(OPEN, { input: { kind: "DELETION" } }, self)).data!.openDataRequest;
    const dis = (await srv.gql<{ openDataRequest: { id: string; openedAt: string; dueAt: string } }>(OPEN, { input: { kind: "DISCLOSURE" } }, self)).data!.openDataRequest;
    const days = (r: { openedAt: string; dueAt: string }) => (Date.parse(r.dueAt) - Date.parse(r.openedAt)) / 86_400_000;
    expect(days(del)).toBe(7);
    expect(days(dis)).toBe(14);
    const EXTEND = `mutation($id: ID!, $d: Int!, $r: String!) { extendDataRequest(id: $id, days: $d, reason: $r) { dueAt } }`;
    expect((await srv.gql(EXTEND, { id: dis.id, d: 14, r: "記録が大量のため" }, self)).code).toBe("FORBIDDEN");
    const ext = await srv.gql<{ extendDataRequest: { dueAt: string } }>(EXTEND, { id: dis.id, d: 14, r: "記録が大量のため" }, await officer());
    expect(ext.errors).toBeUndefined();
    expect(days({ openedAt: dis.openedAt, dueAt: ext.data!.extendDataRequest.dueAt })).toBe(28);
    expect((await srv.gql(EXTEND, { id: dis.id, d: 0, r: "x" }, await officer())).code).toBe("BAD_USER_INPUT");
  });
});
