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
      // The kind of check (not personal) is kept beside the sealed method, so it outlives erasure.
      ["DataRequestIdentityVerified", NOW, { requestId: "r1", method: { plain: "passport" }, label: "recorded" }],
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

  it("unlessPublished: nothing for a text the policy has, the next version for a new text or another policy's text", () => {
    const v1 = catalog.get("base")!.versions[0]!;
    const { number, publishedAt, ...spec } = v1;
    expect(decidePublication({ kind: "publishPolicyVersion", input: spec, unlessPublished: true }, catalog, NOW)).toBeNull();
    // Without the flag the same text is a new version, as an officer's publication is.
    expect(decidePublication({ kind: "publishPolicyVersion", input: spec }, catalog, NOW)).toMatchObject({ data: { number: 3, digest: v1.digest } });
    expect(decidePublication({ kind: "publishPolicyVersion", input: { ...spec, digest: "d".repeat(64) }, unlessPublished: true }, catalog, NOW)).toMatchObject({ data: { number: 3 } });
    // Another policy with the same text is not that policy's version: it is published, as its first.
    expect(decidePublication({ kind: "publishPolicyVersion", input: { ...spec, policyId: "other" }, unlessPublished: true }, catalog, NOW)).toMatchObject({ data: { policyId: "other", number: 1 } });
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

describe("the operator's bounds on a command", () => {
  const input = (occurredAt: number, policyVersion = 1) => ({ policyId: "base", policyVersion, acceptPolicy: false, grant: ["ads"], withdraw: [], occurredAt, evidence: null, expectedVersion: null });
  const record = (occurredAt: number, bounds = {}, policyVersion = 1) =>
    decideSubjectCommand({ kind: "recordConsent", subjectId: "s", input: input(occurredAt, policyVersion) }, subjectOf([accepted("base", 1, day(1))]), catalog, NOW, bounds);

  it("refuses an occurredAt before the version was published or took effect (the earlier of the two), and accepts that instant", () => {
    // base v1 was published on day -1 and took effect on day 0; v2 was published on day 9 and took effect on day 10.
    expect(() => record(day(-1) - 1)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT", message: expect.stringContaining("before version 1 of base") }));
    expect(record(day(-1))).toHaveLength(1);
    expect(() => record(Date.parse("0001-01-01T00:00:00Z"))).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT" }));
    expect(() => record(day(9) - 1, {}, 2)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT", message: expect.stringContaining("version 2") }));
  });

  it("refuses an occurredAt before OCCURRED_AT_FLOOR even where the version allows it, and accepts the floor itself", () => {
    expect(() => record(day(3) - 1, { occurredAtFloor: day(3) })).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT", message: expect.stringContaining("earliest instant") }));
    expect(record(day(3), { occurredAtFloor: day(3) })).toHaveLength(1);
  });

  it("counts open and verified requests against the quota, not closed ones", () => {
    const opened = (id: string, at: number): DomainEvent => ({ type: "DataRequestOpened", occurredAt: at, data: { requestId: id, kind: "DISCLOSURE", dueAt: at + day(14) - day(0) } }) as DomainEvent;
    const facts = [opened("r1", day(1)), opened("r2", day(1)), { type: "DataRequestClosed", occurredAt: day(2), data: { requestId: "r2", fulfilled: false } } as DomainEvent, opened("r3", day(2))];
    const cmd: SubjectCommand = { kind: "openDataRequest", subjectId: "s", input: { requestId: "r9", kind: "DELETION", note: null, dueDays: 14 } };
    // Two open (r1, r3) and one closed: a third open one is allowed with a quota of 3, not with 2.
    expect(decideSubjectCommand(cmd, subjectOf(facts), catalog, NOW, { maxOpenDataRequests: 3 })).toHaveLength(1);
    expect(() => decideSubjectCommand(cmd, subjectOf(facts), catalog, NOW, { maxOpenDataRequests: 2 })).toThrow(
      expect.objectContaining({ code: "TOO_MANY_OPEN_REQUESTS", details: { limit: 2 } }),
    );
    // The default quota is 5.
    const five = Array.from({ length: 5 }, (_, i) => opened(`o${i}`, day(1)));
    expect(() => decideSubjectCommand(cmd, subjectOf(five), catalog, NOW)).toThrow(expect.objectContaining({ code: "TOO_MANY_OPEN_REQUESTS" }));
  });

  it("refuses to start a subject's record under an identifying id, unless allowed; a subject already in the log is served", () => {
    const leave = (subjectId: string): SubjectCommand => ({ kind: "leaveService", subjectId });
    for (const id of ["hana@example.jp", "090-1234-5678"]) {
      expect(() => decideSubjectCommand(leave(id), subjectOf([]), catalog, NOW)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT", message: expect.stringContaining("pseudonymous") }));
      expect(decideSubjectCommand(leave(id), subjectOf([]), catalog, NOW, { allowIdentifyingSubjectIds: true })).toHaveLength(1);
      expect(decideSubjectCommand(leave(id), subjectOf([accepted("base", 1, day(1))]), catalog, NOW)).toHaveLength(1);
    }
    expect(decideSubjectCommand(leave("u-4f1c2b8e"), subjectOf([]), catalog, NOW)).toHaveLength(1);
  });
});
