// Commands as data: each kind is answered by its own decision, and erasures are recognised.
import { describe, expect, it } from "vitest";
import { type SubjectCommand, decidePublication, decideSubjectCommand, shredsEvidence } from "../../src/domain/command.js";
import type { DomainEvent } from "../../src/domain/events.js";
import { P, accepted, baseCatalog, day, lifecycle, subjectOf } from "./fixtures.js";

const NOW = day(20);
const catalog = baseCatalog();
const withRequest = (status: "verified" | "open") => {
  const facts = [
    { type: "DataRequestOpened", occurredAt: day(2), data: { requestId: "r1", kind: "DELETION", dueAt: day(32) } },
    ...(status === "verified" ? [{ type: "DataRequestIdentityVerified", occurredAt: day(3), data: { requestId: "r1", method: { plain: "passport" } } }] : []),
  ] as DomainEvent[];
  return subjectOf(facts);
};
const decide = (cmd: SubjectCommand, state = subjectOf([accepted("base", 1, day(1))])) => decideSubjectCommand(cmd, state, catalog, NOW).map((e) => [e.type, e.occurredAt, e.data]);

describe("decideSubjectCommand answers", () => {
  it("recordConsent with the recorded choices", () => {
    const input = { policyId: "base", policyVersion: 1, acceptPolicy: false, grant: ["ads"], withdraw: [], occurredAt: day(19), evidence: null, expectedVersion: null };
    expect(decide({ kind: "recordConsent", subjectId: "s", input })).toEqual([["ConsentGranted", day(19), { policyId: "base", version: 1, purposeId: "ads", expiresAt: null }]]);
  });

  it("suspendProcessing with a suspension and its reason", () => {
    expect(decide({ kind: "suspendProcessing", subjectId: "s", reason: "asked" })).toEqual([["ProcessingSuspended", NOW, { reason: { plain: "asked" } }]]);
  });

  it("resumeProcessing with a resumption of a suspended subject", () => {
    expect(decide({ kind: "resumeProcessing", subjectId: "s" }, subjectOf([lifecycle("ProcessingSuspended", day(1))]))).toEqual([["ProcessingResumed", NOW, {}]]);
  });

  it("leaveService with a departure", () => {
    expect(decide({ kind: "leaveService", subjectId: "s" })).toEqual([["SubjectLeft", NOW, {}]]);
  });

  it("eraseSubject with an erasure and its reason", () => {
    expect(decide({ kind: "eraseSubject", subjectId: "s", reason: "asked" })).toEqual([["SubjectErased", NOW, { reason: { plain: "asked" } }]]);
  });

  it("openDataRequest with the opened request", () => {
    const input = { requestId: "r1", kind: "DISCLOSURE" as const, note: null, dueDays: 30 };
    expect(decide({ kind: "openDataRequest", subjectId: "s", input })).toEqual([["DataRequestOpened", NOW, { requestId: "r1", kind: "DISCLOSURE", dueAt: day(50) }]]);
  });

  it("verifyDataRequestIdentity with the verification", () => {
    expect(decide({ kind: "verifyDataRequestIdentity", subjectId: "s", requestId: "r1", method: "passport" }, withRequest("open"))).toEqual([
      ["DataRequestIdentityVerified", NOW, { requestId: "r1", method: { plain: "passport" } }],
    ]);
  });

  it("closeDataRequest with the closing and what fulfilling it does", () => {
    expect(decide({ kind: "closeDataRequest", subjectId: "s", requestId: "r1", fulfilled: true, note: null }, withRequest("verified"))).toEqual([
      ["DataRequestClosed", NOW, { requestId: "r1", fulfilled: true }],
      ["SubjectErased", NOW, { dataRequestId: "r1" }],
    ]);
  });
});

describe("decidePublication", () => {
  it("publishes the next version of the policy at the server's clock", () => {
    const input = { policyId: "base", title: "Base", overrides: null, effectiveAt: day(30), requiresConsent: true, documentUrl: null, digest: "a".repeat(64), changeSummary: null, purposes: [P.service] };
    expect(decidePublication({ kind: "publishPolicyVersion", input }, catalog, NOW)).toEqual({ type: "PolicyVersionPublished", occurredAt: NOW, data: { ...input, number: 3 } });
  });
});

describe("shredsEvidence", () => {
  it("is true when an erasure is among the events, and only then", () => {
    const closed: DomainEvent = { type: "DataRequestClosed", occurredAt: NOW, data: { requestId: "r1", fulfilled: true } };
    const erased: DomainEvent = { type: "SubjectErased", occurredAt: NOW, data: {} };
    expect(shredsEvidence([closed, erased])).toBe(true);
    expect(shredsEvidence([closed])).toBe(false);
    expect(shredsEvidence([{ type: "SubjectLeft", occurredAt: NOW, data: {} }])).toBe(false);
    expect(shredsEvidence([])).toBe(false);
  });
});
