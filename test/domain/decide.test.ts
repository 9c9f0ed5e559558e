// decide(command, state) -> events: every refusal of recordConsent, the lifecycle and data requests.
import { describe, expect, it } from "vitest";
import { Catalog } from "../../src/domain/catalog.js";
import {
  type RecordConsentCommand,
  MAX_FUTURE_SKEW_MS,
  decideCloseDataRequest,
  decideErase,
  decideExtendDataRequest,
  decideLeave,
  decideOpenDataRequest,
  decidePublish,
  decideRecordConsent,
  decideResume,
  decideSuspend,
  decideVerifyIdentity,
} from "../../src/domain/decide.js";
import type { ErrorCode } from "../../src/domain/errors.js";
import type { DomainEvent } from "../../src/domain/events.js";
import type { SubjectState } from "../../src/domain/subject.js";
import { DAY_MS } from "../../src/domain/time.js";
import { type Fact, P, accepted, baseCatalog, day, lifecycle, publishCommand, recordCommand, subjectOf, version } from "./fixtures.js";

const NOW = day(20);
const fresh = subjectOf([]);
const acceptedV1 = subjectOf([accepted("base", 1, day(1))]);
const cmd = recordCommand;
const twoBases = () => Catalog.of([...baseCatalog().get("base")!.versions, version("other", 1, { requiresConsent: false, effectiveAt: day(0), purposes: [P.service] })]);

interface Refusal {
  why: string;
  cmd: RecordConsentCommand;
  state?: SubjectState;
  catalog?: Catalog;
  code: ErrorCode;
}

const refusals: Refusal[] = [
  { why: "a policy that was never published", cmd: cmd({ policyId: "nope", acceptPolicy: true }), code: "UNKNOWN_POLICY" },
  { why: "a version that was never published", cmd: cmd({ policyVersion: 3, acceptPolicy: true }), code: "UNKNOWN_POLICY_VERSION" },
  { why: "a purpose the version does not define", cmd: cmd({ acceptPolicy: true, grant: ["telepathy"] }), code: "UNKNOWN_PURPOSE" },
  { why: "a purpose of another version only", cmd: cmd({ policyVersion: 2, grant: ["ads"] }), state: acceptedV1, code: "UNKNOWN_PURPOSE" },
  { why: "withdrawing a required purpose", cmd: cmd({ withdraw: ["service"] }), state: acceptedV1, code: "REQUIRED_PURPOSE" },
  { why: "granting under a consent-requiring version not accepted", cmd: cmd({ grant: ["location"] }), code: "POLICY_NOT_ACCEPTED" },
  { why: "granting under v1 having accepted only another policy", cmd: cmd({ grant: ["location"] }), state: subjectOf([accepted("other", 1, day(1))]), code: "POLICY_NOT_ACCEPTED" },
  { why: "a subject who left, without accepting the policy again", cmd: cmd({ withdraw: ["analytics"] }), state: subjectOf([lifecycle("SubjectLeft", day(1))]), code: "SUBJECT_INACTIVE" },
  { why: "a subject merged into another", cmd: cmd({ policyVersion: 2, acceptPolicy: true }), state: subjectOf([{ ...lifecycle("SubjectMerged", day(1)), data: { into: "x" } } as Fact]), code: "SUBJECT_INACTIVE" },
  { why: "accepting a version superseded at that time (finding 6)", cmd: cmd({ acceptPolicy: true }), code: "POLICY_VERSION_SUPERSEDED" },
  { why: "granting a REQUIRED purpose (it comes with accepting the policy)", cmd: cmd({ acceptPolicy: true, policyVersion: 2, grant: ["service"] }), code: "BAD_USER_INPUT" },
  { why: "an erased subject", cmd: cmd({ acceptPolicy: true }), state: subjectOf([lifecycle("SubjectErased", day(1))]), code: "SUBJECT_INACTIVE" },
  { why: "an expected version that is not the subject's", cmd: cmd({ acceptPolicy: true, expectedVersion: 0 }), state: acceptedV1, code: "VERSION_CONFLICT" },
  { why: "an expected version ahead of the subject's", cmd: cmd({ acceptPolicy: true, expectedVersion: 2 }), state: acceptedV1, code: "VERSION_CONFLICT" },
  { why: "the same purpose granted and withdrawn", cmd: cmd({ acceptPolicy: true, grant: ["location"], withdraw: ["location"] }), code: "BAD_USER_INPUT" },
  { why: "an empty call", cmd: cmd(), code: "BAD_USER_INPUT" },
  { why: "the same purpose granted twice", cmd: cmd({ acceptPolicy: true, grant: ["location", "location"] }), code: "BAD_USER_INPUT" },
  { why: "an oversized user agent", cmd: cmd({ acceptPolicy: true, evidence: { userAgent: "x".repeat(1_025) } }), code: "BAD_USER_INPUT" },
  { why: "an oversized purpose id", cmd: cmd({ acceptPolicy: true, grant: ["p".repeat(129)] }), code: "BAD_USER_INPUT" },
  { why: "an oversized grant list", cmd: cmd({ acceptPolicy: true, grant: Array.from({ length: 201 }, (_, i) => `p${i}`) }), code: "BAD_USER_INPUT" },
  { why: "a malformed purpose id", cmd: cmd({ acceptPolicy: true, grant: ["loc ation"] }), code: "BAD_USER_INPUT" },
  { why: "a version number that is not a positive integer", cmd: cmd({ acceptPolicy: true, policyVersion: 0 }), code: "BAD_USER_INPUT" },
  { why: "occurredAt more than 5 minutes ahead", cmd: cmd({ acceptPolicy: true, occurredAt: NOW + MAX_FUTURE_SKEW_MS + 1 }), code: "BAD_USER_INPUT" },
  { why: "an omitted policyId among several base policies", cmd: cmd({ policyId: null, acceptPolicy: true }), catalog: twoBases(), code: "BAD_USER_INPUT" },
];

describe("decideRecordConsent refuses", () => {
  it.each(refusals)("$why with $code", ({ cmd, state, catalog, code }) => {
    expect(() => decideRecordConsent(cmd, state ?? fresh, catalog ?? baseCatalog(), NOW)).toThrow(expect.objectContaining({ code }));
  });
});

describe("decideRecordConsent records", () => {
  const catalog = baseCatalog();
  // Version 2 takes effect on day 10: version 1 is accepted while it is current.
  const V1 = day(5);

  it("an acceptance and grants in one call, with expiry from the purpose's ttl", () => {
    const events = decideRecordConsent(cmd({ acceptPolicy: true, grant: ["location", "ads"], withdraw: ["analytics"], occurredAt: V1 }), fresh, catalog, NOW);
    expect(events).toEqual([
      { type: "PolicyAccepted", occurredAt: V1, data: { policyId: "base", version: 1 } },
      { type: "ConsentGranted", occurredAt: V1, data: { policyId: "base", version: 1, purposeId: "location", expiresAt: V1 + 30 * DAY_MS } },
      { type: "ConsentGranted", occurredAt: V1, data: { policyId: "base", version: 1, purposeId: "ads", expiresAt: null } },
      { type: "ConsentWithdrawn", occurredAt: V1, data: { policyId: "base", version: 1, purposeId: "analytics" } },
    ]);
  });

  it("a grant under a version already accepted", () => {
    expect(decideRecordConsent(cmd({ grant: ["ads"] }), acceptedV1, catalog, NOW).map((e) => e.type)).toEqual(["ConsentGranted"]);
  });

  it("a grant under a version that does not require consent", () => {
    expect(decideRecordConsent(cmd({ policyVersion: 2, grant: ["location"] }), fresh, catalog, NOW).map((e) => e.type)).toEqual(["ConsentGranted"]);
  });

  it("a withdrawal without any acceptance", () => {
    expect(decideRecordConsent(cmd({ withdraw: ["analytics"] }), fresh, catalog, NOW).map((e) => e.type)).toEqual(["ConsentWithdrawn"]);
  });

  it("the one base policy when policyId is left out", () => {
    const [e] = decideRecordConsent(cmd({ policyId: null, acceptPolicy: true, policyVersion: 2 }), fresh, catalog, NOW);
    expect(e).toMatchObject({ data: { policyId: "base" } });
  });

  it("a back-dated occurredAt as given, and one exactly 5 minutes ahead", () => {
    expect(decideRecordConsent(cmd({ acceptPolicy: true, occurredAt: day(2) }), fresh, catalog, NOW)[0]!.occurredAt).toBe(day(2));
    expect(decideRecordConsent(cmd({ acceptPolicy: true, policyVersion: 2, occurredAt: NOW + MAX_FUTURE_SKEW_MS }), fresh, catalog, NOW)).toHaveLength(1);
  });

  it("the evidence as plain personal data on every event, for the store to seal", () => {
    const events = decideRecordConsent(cmd({ acceptPolicy: true, grant: ["ads"], evidence: { ipAddress: "203.0.113.9" }, occurredAt: V1 }), fresh, catalog, NOW);
    for (const e of events) expect(e.data).toMatchObject({ evidence: { plain: { ipAddress: "203.0.113.9" } } });
  });

  it("the expected version when it matches", () => {
    expect(decideRecordConsent(cmd({ grant: ["ads"], expectedVersion: 1 }), acceptedV1, catalog, NOW)).toHaveLength(1);
  });

  it("finding 6: nothing for accepting the version already accepted, so a banner that always accepts grows nothing", () => {
    expect(decideRecordConsent(cmd({ acceptPolicy: true, occurredAt: V1 }), subjectOf([accepted("base", 1, day(1))]), catalog, NOW)).toEqual([]);
    expect(decideRecordConsent(cmd({ acceptPolicy: true, grant: ["ads"], occurredAt: V1 }), subjectOf([accepted("base", 1, day(1))]), catalog, NOW).map((e) => e.type)).toEqual(["ConsentGranted"]);
  });

  it("finding 6: a back-dated import of the version current then is still accepted", () => {
    expect(decideRecordConsent(cmd({ acceptPolicy: true, occurredAt: day(3) }), fresh, catalog, NOW).map((e) => e.type)).toEqual(["PolicyAccepted"]);
  });

  it("finding 7: a subject who left comes back by accepting the current version again", () => {
    const left = subjectOf([accepted("base", 1, day(1)), lifecycle("SubjectLeft", day(2))]);
    const events = decideRecordConsent(cmd({ acceptPolicy: true, policyVersion: 2 }), left, catalog, NOW);
    expect(events.map((e) => e.type)).toEqual(["SubjectReturned", "PolicyAccepted"]);
    expect(subjectOf([accepted("base", 1, day(1)), lifecycle("SubjectLeft", day(2)), ...events.map((e) => ({ ...e, occurredAt: day(3) }))]).status).toBe("ACTIVE");
  });

  it("for a suspended subject", () => {
    const s = subjectOf([accepted("base", 1, day(1)), lifecycle("ProcessingSuspended", day(2))]);
    expect(decideRecordConsent(cmd({ grant: ["ads"] }), s, catalog, NOW)).toHaveLength(1);
  });
});

const at = (facts: Fact[]) => subjectOf(facts);
const types = (events: DomainEvent[]) => events.map((e) => e.type);

describe("the lifecycle decisions", () => {
  const active = at([]);
  const suspended = at([lifecycle("ProcessingSuspended", day(1))]);
  const left = at([lifecycle("SubjectLeft", day(1))]);
  const erased = at([lifecycle("SubjectErased", day(1))]);

  it("suspend: an active subject is suspended; a suspended one again is a no-op", () => {
    expect(types(decideSuspend(active, "asked", NOW))).toEqual(["ProcessingSuspended"]);
    expect(decideSuspend(active, "asked", NOW)[0]!.data).toEqual({ reason: { plain: "asked" } });
    expect(decideSuspend(suspended, null, NOW)).toEqual([]);
  });

  it("suspend and resume refuse a subject who left or was erased", () => {
    for (const s of [left, erased]) {
      expect(() => decideSuspend(s, null, NOW)).toThrow(expect.objectContaining({ code: "SUBJECT_INACTIVE" }));
      expect(() => decideResume(s, NOW)).toThrow(expect.objectContaining({ code: "SUBJECT_INACTIVE" }));
    }
  });

  it("resume: a suspended subject resumes; an active one is a no-op", () => {
    expect(types(decideResume(suspended, NOW))).toEqual(["ProcessingResumed"]);
    expect(decideResume(active, NOW)).toEqual([]);
  });

  it("leave: active and suspended subjects leave; leaving twice is a no-op; erased refuses", () => {
    expect(types(decideLeave(active, NOW))).toEqual(["SubjectLeft"]);
    expect(types(decideLeave(suspended, NOW))).toEqual(["SubjectLeft"]);
    expect(decideLeave(left, NOW)).toEqual([]);
    expect(() => decideLeave(erased, NOW)).toThrow(expect.objectContaining({ code: "SUBJECT_INACTIVE" }));
  });

  it("erase: any subject not yet erased is erased; erasing twice is a no-op", () => {
    for (const s of [active, suspended, left]) expect(types(decideErase(s, null, NOW))).toEqual(["SubjectErased"]);
    expect(decideErase(erased, null, NOW)).toEqual([]);
  });

  it("refuses an oversized reason", () => {
    expect(() => decideErase(active, "x".repeat(4_097), NOW)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT" }));
  });
});

describe("the data-request decisions", () => {
  const open = (kind: "DISCLOSURE" | "DELETION" | "SUSPENSION", facts: Fact[] = []): SubjectState => {
    const [opened] = decideOpenDataRequest({ requestId: "r1", kind, note: null, dueDays: 14 }, at(facts), day(2));
    return subjectOf([...facts, opened!]);
  };
  const verified = (s: SubjectState) => {
    const [v] = decideVerifyIdentity(s, "r1", "passport", day(3));
    return { ...s, dataRequests: new Map(s.dataRequests).set("r1", { ...s.dataRequests.get("r1")!, status: "IDENTITY_VERIFIED" as const }), _e: v };
  };

  it("opens a request due in the configured number of days", () => {
    const [e] = decideOpenDataRequest({ requestId: "r1", kind: "DISCLOSURE", note: "please", dueDays: 14 }, at([]), NOW);
    expect(e).toEqual({ type: "DataRequestOpened", occurredAt: NOW, data: { requestId: "r1", kind: "DISCLOSURE", dueAt: NOW + 14 * DAY_MS, note: { plain: "please" } } });
    expect(open("DISCLOSURE").dataRequests.get("r1")).toMatchObject({ status: "OPEN", openedAt: day(2), dueAt: day(16) });
  });

  it("refuses to open a request for an erased subject, but not for one who left", () => {
    expect(() => decideOpenDataRequest({ requestId: "r", kind: "DISCLOSURE", note: null, dueDays: 14 }, at([lifecycle("SubjectErased", day(1))]), NOW)).toThrow(
      expect.objectContaining({ code: "SUBJECT_INACTIVE" }),
    );
    expect(decideOpenDataRequest({ requestId: "r", kind: "DELETION", note: null, dueDays: 14 }, at([lifecycle("SubjectLeft", day(1))]), NOW)).toHaveLength(1);
  });

  it("refuses an unknown request with NOT_FOUND", () => {
    expect(() => decideVerifyIdentity(at([]), "nope", "passport", NOW)).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
    expect(() => decideCloseDataRequest(at([]), "nope", false, null, NOW)).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
  });

  it("refuses to fulfil a request before the requester's identity is verified", () => {
    expect(() => decideCloseDataRequest(open("DELETION"), "r1", true, null, NOW)).toThrow(expect.objectContaining({ code: "IDENTITY_NOT_VERIFIED" }));
  });

  it("rejects a request without verification, with the reason told to the person", () => {
    expect(decideCloseDataRequest(open("DELETION"), "r1", false, "本人確認書類が届かなかったため", NOW)).toEqual([
      { type: "DataRequestClosed", occurredAt: NOW, data: { requestId: "r1", fulfilled: false, officerNote: "本人確認書類が届かなかったため" } },
    ]);
  });

  it("refuses a rejection without a reason (APPI Arts. 33(3), 34(3), 35(7))", () => {
    for (const note of [null, "", "  "])
      expect(decideCloseDataRequest.bind(null, open("DISCLOSURE"), "r1", false, note, NOW)).toThrow(
        expect.objectContaining({ code: "BAD_USER_INPUT", message: "rejecting a request needs a note: the reason told to the person", details: { field: "note" } }),
      );
    // Fulfilling needs no note.
    expect(decideCloseDataRequest(verified(open("DISCLOSURE")), "r1", true, null, NOW)).toHaveLength(1);
  });

  it("refuses to verify twice, or to touch a closed request", () => {
    const s = open("DISCLOSURE");
    const twice = verified(s);
    expect(twice._e).toMatchObject({ type: "DataRequestIdentityVerified", data: { requestId: "r1", method: { plain: "passport" } } });
    expect(() => decideVerifyIdentity(twice, "r1", "again", NOW)).toThrow(expect.objectContaining({ code: "INVALID_STATE" }));
    expect(() => decideVerifyIdentity(s, "r1", "  ", NOW)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT" }));
    const closed = { ...s, dataRequests: new Map(s.dataRequests).set("r1", { ...s.dataRequests.get("r1")!, status: "REJECTED" as const }) };
    expect(() => decideCloseDataRequest(closed, "r1", false, null, NOW)).toThrow(expect.objectContaining({ code: "INVALID_STATE" }));
  });

  it("fulfilling a DELETION erases the subject", () => {
    const events = decideCloseDataRequest(verified(open("DELETION")), "r1", true, "done", NOW);
    expect(events).toEqual([
      { type: "DataRequestClosed", occurredAt: NOW, data: { requestId: "r1", fulfilled: true, officerNote: "done" } },
      { type: "SubjectErased", occurredAt: NOW, data: { dataRequestId: "r1" } },
    ]);
  });

  it("fulfilling a SUSPENSION suspends processing, unless it already is", () => {
    expect(decideCloseDataRequest(verified(open("SUSPENSION")), "r1", true, null, NOW)).toEqual([
      { type: "DataRequestClosed", occurredAt: NOW, data: { requestId: "r1", fulfilled: true } },
      { type: "ProcessingSuspended", occurredAt: NOW, data: { dataRequestId: "r1" } },
    ]);
    expect(types(decideCloseDataRequest(verified(open("SUSPENSION", [lifecycle("ProcessingSuspended", day(1))])), "r1", true, null, NOW))).toEqual(["DataRequestClosed"]);
    expect(types(decideCloseDataRequest(verified(open("SUSPENSION", [lifecycle("SubjectLeft", day(1))])), "r1", true, null, NOW))).toEqual(["DataRequestClosed"]);
  });

  it("finding 8: fulfilling a SUSPENSION that names purposes suspends only those", () => {
    const [opened] = decideOpenDataRequest({ requestId: "r1", kind: "SUSPENSION", note: "第三者提供だけ止めてほしい", dueDays: 14, purposeIds: ["ads"] }, at([]), day(2));
    const s = verified(subjectOf([opened!]));
    expect(decideCloseDataRequest(s, "r1", true, null, NOW)).toEqual([
      { type: "DataRequestClosed", occurredAt: NOW, data: { requestId: "r1", fulfilled: true } },
      { type: "ProcessingSuspended", occurredAt: NOW, data: { dataRequestId: "r1", purposeIds: ["ads"] } },
    ]);
    expect(() => decideOpenDataRequest({ requestId: "r2", kind: "DELETION", note: null, dueDays: 14, purposeIds: ["ads"] }, at([]), NOW)).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT" }),
    );
  });

  it("finding 4: the identity check keeps a non-personal label beside the sealed method", () => {
    const [v] = decideVerifyIdentity(open("DELETION"), "r1", "document: 運転免許証 第123456号", NOW);
    expect(v).toMatchObject({ data: { label: "document", method: { plain: "document: 運転免許証 第123456号" } } });
    expect(decideVerifyIdentity(open("DELETION"), "r1", "運転免許証", NOW)[0]).toMatchObject({ data: { label: "recorded" } });
  });

  it("extending a request moves dueAt by whole days, with a reason", () => {
    const s = open("DISCLOSURE");
    expect(decideExtendDataRequest(s, "r1", 14, "大量の記録の確認", NOW)).toEqual([
      { type: "DataRequestExtended", occurredAt: NOW, data: { requestId: "r1", days: 14, dueAt: day(16) + 14 * DAY_MS, reason: "大量の記録の確認" } },
    ]);
    expect(() => decideExtendDataRequest(s, "r1", 0, "x", NOW)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT" }));
    expect(() => decideExtendDataRequest(s, "r1", 7, " ", NOW)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT" }));
  });

  it("fulfilling a DISCLOSURE only closes it", () => {
    expect(types(decideCloseDataRequest(verified(open("DISCLOSURE")), "r1", true, null, NOW))).toEqual(["DataRequestClosed"]);
  });
});

describe("decidePublish", () => {
  const spec = publishCommand({ digest: "a".repeat(64) });

  it("numbers versions in publication order", () => {
    expect(decidePublish(spec, Catalog.of([]), 0).data).toMatchObject({ number: 1 });
    expect(decidePublish(spec, baseCatalog(), 0).data).toMatchObject({ number: 3 });
  });

  it.each([
    ["a digest that is not SHA-256 hex", { digest: "xyz" }, "BAD_USER_INPUT"],
    ["no purposes", { purposes: [] }, "BAD_USER_INPUT"],
    ["a purpose named twice", { purposes: [P.service, P.service] }, "BAD_USER_INPUT"],
    ["overriding itself", { policyId: "x", overrides: "x" }, "BAD_USER_INPUT"],
    ["overriding an unpublished policy", { policyId: "x", overrides: "nope" }, "UNKNOWN_POLICY"],
    ["changing what the policy overrides", { overrides: "other" }, "BAD_USER_INPUT"],
    ["a ttl of zero days", { purposes: [{ ...P.location, consentTtlDays: 0 }] }, "BAD_USER_INPUT"],
  ] as const)("refuses %s", (_why, over, code) => {
    const catalog = Catalog.of([...baseCatalog().get("base")!.versions, version("other", 1, { requiresConsent: false, effectiveAt: day(0), purposes: [P.service] })]);
    expect(() => decidePublish({ ...spec, ...over } as typeof spec, catalog, 0)).toThrow(expect.objectContaining({ code }));
  });
});
