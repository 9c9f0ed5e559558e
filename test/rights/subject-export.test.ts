// subjectExport: the disclosure answer as one ISO/IEC TS 27560-shaped JSON document, for a living and an erased subject.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PublishCommand } from "../../src/domain/decide.js";
import { SUBJECT_EXPORT_SCHEMA } from "../../src/rights/subject-export.js";
import { type TestServer, startTestServer } from "../support/harness.js";
import { ERASE, EXPORT, OPEN_REQUEST, RECORD, tokens } from "./support.js";

let srv: TestServer;
let token: ReturnType<typeof tokens>;
const SEED_DIGEST = createHash("sha256").update(readFileSync("data/privacy-policy.ja.txt")).digest("hex");

interface Export {
  header: Record<string, unknown>;
  notices: { policyId: string; version: number; digest: { algorithm: string; value: string }; documentUrl: string | null }[];
  standings: Record<string, unknown>[];
  processing: { policyId: string; purposeId: string; legalBasis: string; recipients: string[]; state: { status: string; permitted: boolean; reason: string } }[];
  parties: {
    piiPrincipal: { id: string; status: string };
    recipients: { id: string; kind: string; country: string | null; grantedPurposes: { purposeId: string; purpose: string }[]; otherPurposes: { purposeId: string; reason: string }[] }[];
  };
  events: { type: string; label: string; actor: { kind: string }; data: Record<string, unknown>; hash: string }[];
  dataRequests: { kind: string; status: string; note: unknown }[];
}

beforeAll(async () => {
  srv = await startTestServer();
  token = tokens(srv);
  // Both accept version 1 while it is current; version 2 then names a third party abroad for
  // third-party-provision and takes effect at once without re-consent; the grant under it covers that party.
  const { ledger } = srv.app.services;
  for (const s of ["mika", "noa"]) {
    const self = await token(s, "consent:self");
    const r = await srv.gql(RECORD, { input: { policyVersion: 1, acceptPolicy: true, grant: ["location"], withdraw: ["external-analytics"], evidence: { ipAddress: `192.0.2.${s.length}0`, userAgent: `${s}-agent/1.0` } } }, self);
    expect(r.errors).toBeUndefined();
  }
  const v1 = ledger.catalog.get("clavis-privacy")!.versions[0]!;
  const v2: PublishCommand = {
    ...v1,
    effectiveAt: ledger.now() - 1,
    requiresConsent: false,
    documentUrl: "https://example.com/privacy/v2",
    digest: "c".repeat(64),
    documentText: null,
    changeSummary: "names our partner",
    purposes: v1.purposes.map((p) =>
      p.id === "third-party-provision"
        ? { ...p, recipients: [{ id: "partner-sg", name: "Partner Pte. Ltd.", kind: "THIRD_PARTY" as const, country: "SG", privacyPolicyUrl: "https://partner.example/privacy" }] }
        : p,
    ),
  };
  await ledger.publishPolicyVersion(v2, { kind: "OFFICER", id: "dpo" });
  for (const s of ["mika", "noa"]) {
    const self = await token(s, "consent:self");
    const r = await srv.gql(RECORD, { input: { policyVersion: 2, grant: ["third-party-provision"], evidence: { ipAddress: `192.0.2.${s.length}0`, userAgent: `${s}-agent/1.0` } } }, self);
    expect(r.errors).toBeUndefined();
    await srv.gql(OPEN_REQUEST, { input: { kind: "DISCLOSURE", note: `${s} wants a copy` } }, self);
  }
  await srv.gql(ERASE, { s: "noa" }, await token("officer", "subject:admin"));
});
afterAll(() => srv.close());

const exportOf = async (s: string, scope = "ledger:read", sub = "auditor") => srv.gql<{ subjectExport: Export }>(EXPORT, { s }, await token(sub, scope));

describe("subjectExport", () => {
  it("is for ledger:read or the subject itself", async () => {
    expect((await exportOf("mika", "consent:self", "mika")).errors).toBeUndefined();
    expect((await exportOf("mika", "consent:self", "noa")).code).toBe("FORBIDDEN");
    expect((await exportOf("mika", "consent:read consent:write")).code).toBe("FORBIDDEN");
  });

  it("gives a living subject's whole record: state, events with evidence, notices, recipients with their purposes, requests", async () => {
    const r = await exportOf("mika");
    expect(r.errors).toBeUndefined();
    const x = r.data!.subjectExport;
    // The first test's export by mika and this one by the auditor are each noted first (PersonalDataAccessed).
    expect(x.header).toMatchObject({ schema: SUBJECT_EXPORT_SCHEMA, piiPrincipalId: "mika", subjectStatus: "ACTIVE", subjectVersion: 7 });
    expect(x.header.ledgerHead).toMatchObject({ position: expect.stringMatching(/^\d{16}$/), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // The notices: v1 (accepted, the seed text's digest) and v2 (applicable now, with its URL).
    expect(x.notices.map((n) => [n.policyId, n.version])).toEqual([
      ["clavis-privacy", 1],
      ["clavis-privacy", 2],
    ]);
    expect(x.notices[0]!.digest).toEqual({ algorithm: "SHA-256", value: SEED_DIGEST });
    expect(x.notices[1]).toMatchObject({ documentUrl: "https://example.com/privacy/v2", digest: { value: "c".repeat(64) } });
    expect(x.standings).toEqual([
      { policyId: "clavis-privacy", acceptedVersion: 1, acceptedAt: expect.any(String), applicableVersion: 2, pendingVersion: null, needsReconsent: false },
    ]);

    const purpose = (id: string) => x.processing.find((p) => p.purposeId === id)!;
    expect(purpose("location")).toMatchObject({ legalBasis: "CONSENT", state: { status: "GRANTED", permitted: true } });
    expect(purpose("third-party-provision")).toMatchObject({ recipients: ["partner-sg"], state: { status: "GRANTED", permitted: true } });
    expect(purpose("external-analytics").state).toMatchObject({ status: "WITHDRAWN", permitted: false });
    expect(x.processing.filter((p) => p.purposeId === "location")).toHaveLength(1);

    expect(x.parties.piiPrincipal).toEqual({ id: "mika", status: "ACTIVE" });
    const recipients = Object.fromEntries(x.parties.recipients.map((p) => [p.id, p]));
    expect(recipients["partner-sg"]).toMatchObject({ kind: "THIRD_PARTY", country: "SG", grantedPurposes: [{ purposeId: "third-party-provision" }], otherPurposes: [] });
    expect(recipients["google-analytics"]).toMatchObject({ kind: "EXTERNAL_MODULE", country: "US", grantedPurposes: [], otherPurposes: [{ purposeId: "external-analytics", reason: "WITHDRAWN" }] });

    expect(x.events.map((e) => e.type)).toEqual(["PolicyAccepted", "ConsentGranted", "ConsentWithdrawn", "ConsentGranted", "DataRequestOpened", "PersonalDataAccessed", "PersonalDataAccessed"]);
    expect(x.events.at(-1)).toMatchObject({ label: "個人データの閲覧", actor: { kind: "OFFICER", id: "auditor" }, data: { read: "subjectExport" } });
    expect(x.events[0]).toMatchObject({ type: "PolicyAccepted", label: "ポリシーへの同意" });
    expect(x.events[1]!.data).toMatchObject({ purposeId: "location", evidence: { ipAddress: "192.0.2.40", userAgent: "mika-agent/1.0" } });
    expect(x.events[1]!.actor).toEqual({ kind: "SUBJECT", id: "mika" });
    expect(x.dataRequests).toMatchObject([{ kind: "DISCLOSURE", status: "OPEN", note: "mika wants a copy" }]);
  });

  it("gives an erased subject's record with the facts but without evidence or free text", async () => {
    const r = await exportOf("noa");
    const x = r.data!.subjectExport;
    expect(x.header).toMatchObject({ piiPrincipalId: "noa", subjectStatus: "ERASED" });
    const text = JSON.stringify(x);
    for (const gone of ["192.0.2.30", "noa-agent/1.0", "noa wants a copy"]) expect(text).not.toContain(gone);
    expect(x.events.map((e) => e.type)).toEqual(["PolicyAccepted", "ConsentGranted", "ConsentWithdrawn", "ConsentGranted", "DataRequestOpened", "SubjectErased", "PersonalDataAccessed"]);
    expect(x.events[1]!.data).toEqual({ policyId: "clavis-privacy", version: 1, purposeId: "location", expiresAt: expect.any(String), evidence: { erased: true } });
    expect(x.notices.map((n) => n.version)).toEqual([1, 2]);
    expect(x.processing.every((p) => !p.state.permitted && p.state.reason === "SUBJECT_ERASED")).toBe(true);
    expect(x.processing.find((p) => p.purposeId === "location")!.state.status).toBe("GRANTED");
    expect(x.parties.recipients.every((p) => p.grantedPurposes.length === 0)).toBe(true);
    expect(x.dataRequests).toEqual([expect.objectContaining({ kind: "DISCLOSURE", note: { erased: true } })]);
  });
});
