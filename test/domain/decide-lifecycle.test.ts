// decide for the lifecycle beyond suspend and resume: returning after leaving, merged subjects,
// scoped suspensions and SUSPENSION requests naming purposes, extensions, and the controller a
// publication names.
import { describe, expect, it } from "vitest";
import { Catalog, type Controller, type Recipient } from "../../src/domain/catalog.js";
import {
  type PublishCommand,
  type RecordConsentCommand,
  decideCloseDataRequest,
  decideExtendDataRequest,
  decideLeave,
  decideOpenDataRequest,
  decidePublish,
  decideRecordConsent,
  decideResume,
  decideSuspend,
  decideVerifyIdentity,
  requireActive,
} from "../../src/domain/decide.js";
import type { SubjectState } from "../../src/domain/subject.js";
import { DAY_MS } from "../../src/domain/time.js";
import { type Fact, P, accepted, baseCatalog, day, granted, lifecycle, publishCommand, recordCommand, subjectOf } from "./fixtures.js";
import { refusal } from "../support/common.js";

const NOW = day(20);

const cmd = (over: Partial<RecordConsentCommand> = {}): RecordConsentCommand => recordCommand({ policyVersion: 2, acceptPolicy: true, ...over });
const merged = (into: string, at = day(2)): Fact => ({ type: "SubjectMerged", occurredAt: at, data: { into } });
const left = subjectOf([accepted("base", 1, day(1)), granted("base", 1, "location", day(1)), lifecycle("SubjectLeft", day(2))]);

describe("requireActive", () => {
  it("lets ACTIVE and SUSPENDED subjects through and says why it refuses the others", () => {
    expect(() => requireActive(subjectOf([]))).not.toThrow();
    expect(() => requireActive(subjectOf([lifecycle("ProcessingSuspended", day(1))]))).not.toThrow();
    expect(refusal(() => requireActive(subjectOf([merged("acct")])))).toMatchObject({ code: "SUBJECT_INACTIVE", message: "the subject has been merged into another subject" });
    expect(refusal(() => requireActive(left))).toMatchObject({ code: "SUBJECT_INACTIVE", message: "the subject has left the service" });
    expect(refusal(() => requireActive(subjectOf([lifecycle("SubjectErased", day(1))])))).toMatchObject({ code: "SUBJECT_INACTIVE", message: "the subject has been erased" });
  });
});

describe("a subject who left", () => {
  it("comes back by accepting the policy now, even the version already accepted", () => {
    const leftV2 = subjectOf([accepted("base", 2, day(11)), lifecycle("SubjectLeft", day(12))]);
    expect(decideRecordConsent(cmd(), leftV2, baseCatalog(), NOW)).toEqual([
      { type: "SubjectReturned", occurredAt: NOW, data: {} },
      { type: "PolicyAccepted", occurredAt: NOW, data: { policyId: "base", version: 2 } },
    ]);
  });

  it("comes back with the grants made in the same call", () => {
    expect(decideRecordConsent(cmd({ grant: ["location"] }), left, baseCatalog(), NOW).map((e) => e.type)).toEqual(["SubjectReturned", "PolicyAccepted", "ConsentGranted"]);
  });

  it("cannot come back at another instant than now, before or after", () => {
    for (const occurredAt of [NOW - 1, NOW + 1]) {
      expect(refusal(() => decideRecordConsent(cmd({ occurredAt }), left, baseCatalog(), NOW))).toMatchObject({
        code: "BAD_USER_INPUT",
        message: "a subject who left comes back now: leave occurredAt out when accepting again",
        details: { field: "occurredAt" },
      });
    }
  });

  it("who was merged or erased does not come back by accepting", () => {
    expect(refusal(() => decideRecordConsent(cmd(), subjectOf([merged("acct")]), baseCatalog(), NOW))).toMatchObject({ code: "SUBJECT_INACTIVE" });
    expect(refusal(() => decideRecordConsent(cmd(), subjectOf([lifecycle("SubjectErased", day(1))]), baseCatalog(), NOW))).toMatchObject({ code: "SUBJECT_INACTIVE" });
  });

  it("leaving: a merged subject is refused, one who left leaves nothing more", () => {
    expect(refusal(() => decideLeave(subjectOf([merged("acct")]), NOW))).toMatchObject({ code: "SUBJECT_INACTIVE", message: "the subject has been merged into another subject" });
    expect(decideLeave(left, NOW)).toEqual([]);
    expect(decideLeave(subjectOf([]), NOW)).toEqual([{ type: "SubjectLeft", occurredAt: NOW, data: {} }]);
  });
});

describe("recordConsent refuses", () => {
  it("granting required purposes one by one, naming them", () => {
    const e = refusal(() => decideRecordConsent(cmd({ grant: ["analytics", "service", "notices"] }), subjectOf([]), baseCatalog(), NOW));
    expect(e).toMatchObject({
      code: "BAD_USER_INPUT",
      message: "required purposes are not granted one by one: accepting the policy gives them: service, notices",
      details: { purposeIds: ["service", "notices"] },
    });
  });

  it("accepting a version superseded at that time, naming the current one", () => {
    const e = refusal(() => decideRecordConsent(cmd({ policyVersion: 1, occurredAt: day(10) }), subjectOf([]), baseCatalog(), NOW));
    expect(e).toMatchObject({
      code: "POLICY_VERSION_SUPERSEDED",
      message: "version 1 of base was superseded by version 2 at that time: accept the current version",
      details: { currentVersion: 2 },
    });
    // The millisecond before version 2 took effect, version 1 was current.
    expect(decideRecordConsent(cmd({ policyVersion: 1, occurredAt: day(10) - 1 }), subjectOf([]), baseCatalog(), NOW)).toHaveLength(1);
  });

  it("a grant under a consent-requiring version above the one accepted, without accepting it", () => {
    const catalog = Catalog.of([...baseCatalog().get("base")!.versions, { ...baseCatalog().version("base", 1)!, number: 3, effectiveAt: day(15), publishedAt: day(15) }]);
    const acceptedV2 = subjectOf([accepted("base", 2, day(11))]);
    expect(refusal(() => decideRecordConsent(cmd({ policyVersion: 3, acceptPolicy: false, grant: ["ads"] }), acceptedV2, catalog, NOW))).toMatchObject({
      code: "POLICY_NOT_ACCEPTED",
      message: "version 3 of base requires consent: accept it first or in this call",
    });
  });
});

describe("recordConsent records", () => {
  it("a later version accepted over an earlier one, and nothing for an earlier one accepted again", () => {
    const acceptedV1 = subjectOf([accepted("base", 1, day(1))]);
    expect(decideRecordConsent(cmd(), acceptedV1, baseCatalog(), NOW).map((e) => e.type)).toEqual(["PolicyAccepted"]);
    const acceptedV2 = subjectOf([accepted("base", 2, day(11))]);
    expect(decideRecordConsent(cmd({ policyVersion: 1, occurredAt: day(5) }), acceptedV2, baseCatalog(), NOW)).toEqual([]);
  });

  it("a grant expiring after the purpose's ttl, counted from when it occurred", () => {
    const [e] = decideRecordConsent(cmd({ acceptPolicy: false, grant: ["location"], occurredAt: day(15) }), subjectOf([accepted("base", 1, day(1))]), baseCatalog(), NOW);
    expect(e!.data).toMatchObject({ expiresAt: day(15) + 30 * DAY_MS });
  });

  it("the evidence on a withdrawal too", () => {
    const [e] = decideRecordConsent(cmd({ acceptPolicy: false, withdraw: ["analytics"], evidence: { channel: "web" } }), subjectOf([]), baseCatalog(), NOW);
    expect(e).toEqual({ type: "ConsentWithdrawn", occurredAt: NOW, data: { policyId: "base", version: 2, purposeId: "analytics", evidence: { plain: { channel: "web" } } } });
  });
});

describe("a scoped suspension", () => {
  const active = subjectOf([]);
  const adsSuspended = subjectOf([{ type: "ProcessingSuspended", occurredAt: day(1), data: { purposeIds: ["ads"] } }]);

  it("names the purposes not already suspended, and the request behind it", () => {
    expect(decideSuspend(adsSuspended, null, NOW, "r1", ["ads", "location"])).toEqual([
      { type: "ProcessingSuspended", occurredAt: NOW, data: { dataRequestId: "r1", purposeIds: ["location"] } },
    ]);
  });

  it("is nothing when every purpose named is already suspended", () => {
    expect(decideSuspend(adsSuspended, null, NOW, undefined, ["ads"])).toEqual([]);
  });

  it("with no purposes, or an empty list, suspends every purpose", () => {
    expect(decideSuspend(active, null, NOW, undefined, [])).toEqual([{ type: "ProcessingSuspended", occurredAt: NOW, data: {} }]);
    expect(decideSuspend(active, null, NOW, undefined, null)).toEqual([{ type: "ProcessingSuspended", occurredAt: NOW, data: {} }]);
  });

  it("is lifted by resuming, though the subject stayed ACTIVE", () => {
    expect(decideResume(adsSuspended, NOW)).toEqual([{ type: "ProcessingResumed", occurredAt: NOW, data: {} }]);
  });

  it("refuses a reason over the text limit", () => {
    expect(refusal(() => decideSuspend(active, "x".repeat(4_097), NOW))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "reason" } });
    expect(decideSuspend(active, "x".repeat(4_096), NOW)).toHaveLength(1);
  });
});

describe("a SUSPENSION request naming purposes", () => {
  const open = (purposeIds: readonly string[] | null, catalog?: Catalog, state: SubjectState = subjectOf([])) =>
    decideOpenDataRequest({ requestId: "r1", kind: "SUSPENSION", note: null, dueDays: 14, purposeIds }, state, NOW, 5, catalog);

  it("records the purposes, and none for an empty list", () => {
    expect(open(["ads", "location"], baseCatalog())[0]!.data).toEqual({ requestId: "r1", kind: "SUSPENSION", dueAt: NOW + 14 * DAY_MS, purposeIds: ["ads", "location"] });
    expect(open([])[0]!.data).not.toHaveProperty("purposeIds");
  });

  it("refuses purposes for another kind of request", () => {
    const e = refusal(() => decideOpenDataRequest({ requestId: "r1", kind: "DISCLOSURE", note: null, dueDays: 14, purposeIds: ["ads"] }, subjectOf([]), NOW));
    expect(e).toMatchObject({ code: "BAD_USER_INPUT", message: "purposeIds may name purposes only for a SUSPENSION request" });
  });

  it("takes 200 purposes and refuses 201", () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);
    expect(open(ids(200))).toHaveLength(1);
    expect(refusal(() => open(ids(201)))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "purposeIds" } });
  });

  it("refuses an invalid purpose id and one named twice", () => {
    expect(refusal(() => open(["ads", "bad id"]))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "purpose id" } });
    expect(refusal(() => open(["ads", "ads"]))).toMatchObject({ code: "BAD_USER_INPUT", message: "a purpose is named twice" });
  });

  it("refuses purposes no published policy defines, naming them", () => {
    expect(refusal(() => open(["ads", "telepathy", "clairvoyance"], baseCatalog()))).toMatchObject({
      code: "UNKNOWN_PURPOSE",
      message: "not a purpose of any published policy: telepathy, clairvoyance",
      details: { purposeIds: ["telepathy", "clairvoyance"] },
    });
  });

  it("when fulfilled for a subject already SUSPENDED, only closes it", () => {
    const [opened] = open(["ads"]);
    const facts: Fact[] = [opened!, lifecycle("ProcessingSuspended", day(1))];
    const [verified] = decideVerifyIdentity(subjectOf(facts), "r1", "passport", NOW);
    expect(decideCloseDataRequest(subjectOf([...facts, verified!]), "r1", true, null, NOW).map((e) => e.type)).toEqual(["DataRequestClosed"]);
  });
});

describe("opening a data request", () => {
  it("refuses a note over 1000 characters and takes one at it", () => {
    const open = (note: string) => decideOpenDataRequest({ requestId: "r1", kind: "DISCLOSURE", note, dueDays: 14 }, subjectOf([]), NOW);
    expect(open("x".repeat(1_000))).toHaveLength(1);
    expect(refusal(() => open("x".repeat(1_001)))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "note" }, message: "note is longer than 1000 characters" });
  });

  it("refuses one over the quota, saying how many are open", () => {
    const [r1] = decideOpenDataRequest({ requestId: "r1", kind: "DISCLOSURE", note: null, dueDays: 14 }, subjectOf([]), day(1));
    const e = refusal(() => decideOpenDataRequest({ requestId: "r2", kind: "DISCLOSURE", note: null, dueDays: 14 }, subjectOf([r1!]), NOW, 1));
    expect(e).toMatchObject({ code: "TOO_MANY_OPEN_REQUESTS", message: "1 data requests are still open; at most 1 may be open at once", details: { limit: 1 } });
  });
});

describe("extending a data request", () => {
  const [opened] = decideOpenDataRequest({ requestId: "r1", kind: "DISCLOSURE", note: null, dueDays: 14 }, subjectOf([]), day(2));
  const s = subjectOf([opened!]);

  it("takes 1 to 365 whole days, within the total the operator allows", () => {
    expect(decideExtendDataRequest(s, "r1", 1, "x", NOW)[0]!.data).toMatchObject({ days: 1, dueAt: day(17) });
    expect(decideExtendDataRequest(s, "r1", 365, "x", NOW, 365)[0]!.data).toMatchObject({ days: 365, dueAt: day(16 + 365) });
  });

  it("caps the days added in total at 60 by default (DATA_REQUEST_MAX_EXTENSION_DAYS)", () => {
    // The days earlier extensions added are the request's state, folded from its events.
    const s40 = subjectOf([opened!, ...decideExtendDataRequest(s, "r1", 40, "x", NOW)]);
    expect(s40.dataRequests.get("r1")!.extendedDays).toBe(40);
    expect(decideExtendDataRequest(s, "r1", 60, "x", NOW)[0]!.data).toMatchObject({ days: 60 });
    expect(decideExtendDataRequest(s40, "r1", 20, "x", NOW)[0]!.data).toMatchObject({ days: 20 });
    expect(refusal(() => decideExtendDataRequest(s, "r1", 61, "x", NOW))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "days", maxDays: 60, extendedDays: 0 } });
    expect(refusal(() => decideExtendDataRequest(s40, "r1", 21, "繁忙", NOW))).toMatchObject({
      code: "BAD_USER_INPUT",
      message: "a request may be extended by at most 60 days in total; it was extended by 40 already",
    });
    expect(decideExtendDataRequest(s, "r1", 10, "x", NOW, 10)).toHaveLength(1);
    expect(refusal(() => decideExtendDataRequest(s, "r1", 11, "x", NOW, 10))).toMatchObject({ code: "BAD_USER_INPUT", details: { maxDays: 10 } });
  });

  it.each([0, 366, 1.5, Number.NaN])("refuses %s days", (days) => {
    expect(refusal(() => decideExtendDataRequest(s, "r1", days, "x", NOW))).toMatchObject({ code: "BAD_USER_INPUT", message: "days must be a whole number from 1 to 365" });
  });

  it("needs a reason of at most 1024 characters", () => {
    expect(refusal(() => decideExtendDataRequest(s, "r1", 7, "", NOW))).toMatchObject({ code: "BAD_USER_INPUT", message: "an extension needs a reason" });
    expect(decideExtendDataRequest(s, "r1", 7, "x".repeat(1_024), NOW)).toHaveLength(1);
    expect(refusal(() => decideExtendDataRequest(s, "r1", 7, "x".repeat(1_025), NOW))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "reason" } });
  });

  it("refuses an unknown or closed request", () => {
    expect(refusal(() => decideExtendDataRequest(s, "r9", 7, "x", NOW))).toMatchObject({ code: "NOT_FOUND", message: "no data request r9" });
    const closed = subjectOf([opened!, ...decideCloseDataRequest(s, "r1", false, "理由", day(3))]);
    expect(refusal(() => decideExtendDataRequest(closed, "r1", 7, "x", NOW))).toMatchObject({ code: "INVALID_STATE", message: "data request r1 is already closed" });
  });
});

describe("closing a data request", () => {
  const [opened] = decideOpenDataRequest({ requestId: "r1", kind: "DELETION", note: null, dueDays: 14 }, subjectOf([]), day(2));

  it("before verification refuses fulfilment, saying why", () => {
    expect(refusal(() => decideCloseDataRequest(subjectOf([opened!]), "r1", true, null, NOW))).toMatchObject({
      code: "IDENTITY_NOT_VERIFIED",
      message: "data request r1 cannot be fulfilled before the requester's identity is verified",
    });
  });

  it("refuses verifying twice, saying so", () => {
    const verified = subjectOf([opened!, ...decideVerifyIdentity(subjectOf([opened!]), "r1", "passport", day(3))]);
    expect(refusal(() => decideVerifyIdentity(verified, "r1", "passport", NOW))).toMatchObject({ code: "INVALID_STATE", message: "identity for data request r1 is already verified" });
  });
});

const controller = (over: Partial<Controller> = {}): Controller => ({ name: "Acme KK", address: null, contact: null, email: null, phone: null, url: null, requestProcedure: null, ...over });
const spec = publishCommand;
const publish = (over: Partial<PublishCommand>) => decidePublish(spec(over), baseCatalog(), NOW);

describe("a publication's controller", () => {
  it("is recorded as given", () => {
    expect(publish({ controller: controller({ email: "privacy@acme.example" }) }).data).toMatchObject({ controller: controller({ email: "privacy@acme.example" }) });
  });

  it.each(["", "  "])("needs a name (%j refused)", (name) => {
    expect(refusal(() => publish({ controller: controller({ name }) }))).toMatchObject({ code: "BAD_USER_INPUT", message: "the controller needs a name" });
  });

  it.each(["name", "address", "contact", "email", "phone", "url", "requestProcedure"] as const)("takes a %s of 2048 characters and refuses a longer one, naming it", (field) => {
    // The url is a link as well: a string of its length that is an https: address.
    const ofLength = (n: number) => (field === "url" ? `https://example.jp/${"x".repeat(n - 19)}` : "x".repeat(n));
    expect(() => publish({ controller: controller({ [field]: ofLength(2_048) }) })).not.toThrow();
    expect(refusal(() => publish({ controller: controller({ [field]: ofLength(2_049) }) }))).toMatchObject({
      code: "BAD_USER_INPUT",
      details: { field: `controller.${field}` },
      message: `controller.${field} is longer than 2048 characters`,
    });
  });
});

describe("a publication's recipients' Art. 28 details", () => {
  const recipient = (over: Partial<Recipient>): Recipient => ({ id: "m", name: "M", kind: "THIRD_PARTY", country: "US", privacyPolicyUrl: null, ...over });
  const withRecipient = (over: Partial<Recipient>) => publish({ purposes: [{ ...P.ads, recipients: [recipient(over)] }] });

  it.each(["countryProtectionSystem", "measures", "recipientPurpose"] as const)("take a %s of 4096 characters and refuse a longer one, naming it", (field) => {
    expect(withRecipient({ [field]: "x".repeat(4_096) }).data).toMatchObject({ purposes: [{ recipients: [{ [field]: "x".repeat(4_096) }] }] });
    expect(refusal(() => withRecipient({ [field]: "x".repeat(4_097) }))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: `recipient m ${field}` } });
  });
});
