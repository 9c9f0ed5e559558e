// Evidence the ledger keeps of what people were shown and who read their data: notices shown,
// announcements, PersonalDataAccessed; disclosures for erased subjects; the text behind a digest;
// the data categories a grant covers.
import { describe, expect, it } from "vitest";
import { Catalog } from "../../src/domain/catalog.js";
import { announcementStream, decideAnnouncement, decideSubjectCommand } from "../../src/domain/command.js";
import { DOCUMENT_TEXT_LENGTH, decideExtendDataRequest, decideNoticeShown, decideOpenDataRequest, decidePersonalDataAccessed, decidePublish, toPublishCommand } from "../../src/domain/decide.js";
import { decidePermission } from "../../src/domain/permission.js";
import { P, accepted, baseCatalog, day, granted, lifecycle, publishCommand, subjectOf, version, viewOf, withdrawn } from "./fixtures.js";
import { refusal } from "../support/common.js";

const NOW = day(20);
const notice = (over: Partial<Parameters<typeof decideNoticeShown>[0]> = {}) => ({ policyId: "base", policyVersion: 1, channel: "web-banner", locale: "ja-JP", noticeId: null, ...over });

describe("a notice shown", () => {
  it("is recorded now with the version, channel, locale and notice id, and changes no consent", () => {
    expect(decideNoticeShown(notice({ noticeId: "banner-1" }), subjectOf([]), baseCatalog(), NOW)).toEqual([
      { type: "NoticeShown", occurredAt: NOW, data: { policyId: "base", version: 1, channel: "web-banner", locale: "ja-JP", noticeId: "banner-1" } },
    ]);
    expect(decideNoticeShown(notice(), subjectOf([]), baseCatalog(), NOW)[0]!.data).not.toHaveProperty("noticeId");
    // Without a policy id: the one base policy.
    expect(decideNoticeShown(notice({ policyId: null, policyVersion: 2 }), subjectOf([]), baseCatalog(), NOW)[0]!.data).toMatchObject({ policyId: "base", version: 2 });
  });

  it("to a subject who left is recorded; to an erased or merged one refused", () => {
    expect(decideNoticeShown(notice(), subjectOf([lifecycle("SubjectLeft", day(1))]), baseCatalog(), NOW)).toHaveLength(1);
    for (const type of ["SubjectErased", "SubjectMerged"] as const)
      expect(refusal(() => decideNoticeShown(notice(), subjectOf([lifecycle(type, day(1))]), baseCatalog(), NOW))).toMatchObject({ code: "SUBJECT_INACTIVE" });
  });

  it("refuses an unknown version or policy, and empty or long channel and locale", () => {
    expect(refusal(() => decideNoticeShown(notice({ policyVersion: 9 }), subjectOf([]), baseCatalog(), NOW))).toMatchObject({ code: "UNKNOWN_POLICY_VERSION", message: "policy base has no version 9" });
    expect(refusal(() => decideNoticeShown(notice({ policyId: "nope" }), subjectOf([]), baseCatalog(), NOW))).toMatchObject({ code: "UNKNOWN_POLICY" });
    for (const field of ["channel", "locale"] as const) {
      expect(refusal(() => decideNoticeShown(notice({ [field]: " " }), subjectOf([]), baseCatalog(), NOW))).toMatchObject({ code: "BAD_USER_INPUT", message: `${field} must not be empty`, details: { field } });
      expect(decideNoticeShown(notice({ [field]: "x".repeat(64) }), subjectOf([]), baseCatalog(), NOW)).toHaveLength(1);
      expect(refusal(() => decideNoticeShown(notice({ [field]: "x".repeat(65) }), subjectOf([]), baseCatalog(), NOW))).toMatchObject({ details: { field } });
    }
    expect(decideNoticeShown(notice({ noticeId: "x".repeat(256) }), subjectOf([]), baseCatalog(), NOW)).toHaveLength(1);
    expect(refusal(() => decideNoticeShown(notice({ noticeId: "x".repeat(257) }), subjectOf([]), baseCatalog(), NOW))).toMatchObject({ details: { field: "noticeId" } });
  });

  it("runs as a subject command, asking a new id to be pseudonymous", () => {
    expect(decideSubjectCommand({ kind: "recordNoticeShown", subjectId: "s", input: notice() }, subjectOf([]), baseCatalog(), NOW)).toHaveLength(1);
    expect(refusal(() => decideSubjectCommand({ kind: "recordNoticeShown", subjectId: "a@example.com", input: notice() }, subjectOf([]), baseCatalog(), NOW))).toMatchObject({ code: "BAD_USER_INPUT" });
  });
});

describe("PersonalDataAccessed", () => {
  const held = subjectOf([accepted("base", 1, day(1))]);

  it("records what was read and the reason; nothing for a subject the ledger holds nothing of", () => {
    expect(decidePersonalDataAccessed(held, "subjectExport", "監査", NOW)).toEqual([{ type: "PersonalDataAccessed", occurredAt: NOW, data: { read: "subjectExport", reason: "監査" } }]);
    expect(decidePersonalDataAccessed(held, "subjectExport", null, NOW)[0]!.data).toEqual({ read: "subjectExport" });
    expect(decidePersonalDataAccessed(subjectOf([]), "subjectExport", "x", NOW)).toEqual([]);
    expect(decidePersonalDataAccessed(subjectOf([lifecycle("SubjectErased", day(1))]), "subjectExport", null, NOW)).toHaveLength(1);
  });

  it("takes a reason of at most 1024 characters", () => {
    expect(decidePersonalDataAccessed(held, "r", "x".repeat(1_024), NOW)).toHaveLength(1);
    expect(refusal(() => decidePersonalDataAccessed(held, "r", "x".repeat(1_025), NOW))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "reason" } });
  });

  it("as a subject command, never refuses an id for its shape (a read creates no subject)", () => {
    expect(decideSubjectCommand({ kind: "recordPersonalDataAccessed", subjectId: "a@example.com", read: "subjectExport", reason: null }, subjectOf([]), baseCatalog(), NOW)).toEqual([]);
  });
});

describe("an announcement", () => {
  const cmd = (over: Partial<Parameters<typeof decideAnnouncement>[0]> = {}) => ({ kind: "recordPolicyAnnouncement" as const, policyId: "base", version: 2, method: "website", at: null, ...over });

  it("is recorded at `at`, else now, on the policy's announcement stream", () => {
    expect(decideAnnouncement(cmd(), baseCatalog(), NOW)).toEqual({ type: "PolicyAnnounced", occurredAt: NOW, data: { policyId: "base", version: 2, method: "website", at: NOW } });
    expect(decideAnnouncement(cmd({ at: day(3) }), baseCatalog(), NOW)).toMatchObject({ occurredAt: day(3), data: { at: day(3) } });
    expect(decideAnnouncement(cmd({ at: NOW + 5 * 60_000 }), baseCatalog(), NOW).occurredAt).toBe(NOW + 5 * 60_000);
    expect(announcementStream("base")).toBe("policy-announcements:base");
  });

  it("refuses an unknown policy or version, an empty or long method, and an instant ahead of the clock", () => {
    expect(refusal(() => decideAnnouncement(cmd({ policyId: "nope" }), baseCatalog(), NOW))).toMatchObject({ code: "UNKNOWN_POLICY", message: "policy nope is not published" });
    expect(refusal(() => decideAnnouncement(cmd({ version: 3 }), baseCatalog(), NOW))).toMatchObject({ code: "UNKNOWN_POLICY_VERSION", message: "policy base has no version 3" });
    expect(refusal(() => decideAnnouncement(cmd({ policyId: "bad id" }), baseCatalog(), NOW))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "policy id" } });
    expect(refusal(() => decideAnnouncement(cmd({ method: " " }), baseCatalog(), NOW))).toMatchObject({ code: "BAD_USER_INPUT", message: "method must say how the change was announced", details: { field: "method" } });
    expect(decideAnnouncement(cmd({ method: "x".repeat(256) }), baseCatalog(), NOW).type).toBe("PolicyAnnounced");
    expect(refusal(() => decideAnnouncement(cmd({ method: "x".repeat(257) }), baseCatalog(), NOW))).toMatchObject({ details: { field: "method" } });
    expect(refusal(() => decideAnnouncement(cmd({ at: NOW + 5 * 60_000 + 1 }), baseCatalog(), NOW))).toMatchObject({ code: "BAD_USER_INPUT", message: "at lies more than 5 minutes in the future", details: { field: "at" } });
  });
});

describe("a disclosure request for an erased subject", () => {
  const erased = subjectOf([lifecycle("SubjectErased", day(1))]);
  const open = (kind: "DISCLOSURE" | "CORRECTION", byOfficer?: boolean) =>
    decideOpenDataRequest({ requestId: "r1", kind, note: null, dueDays: 14, ...(byOfficer !== undefined ? { byOfficer } : {}) }, erased, NOW);

  it("is opened by an officer; other kinds, and the subject itself, are refused", () => {
    expect(open("DISCLOSURE", true)[0]).toMatchObject({ type: "DataRequestOpened", data: { kind: "DISCLOSURE" } });
    expect(refusal(() => open("DISCLOSURE", false))).toMatchObject({ code: "SUBJECT_INACTIVE", message: "the subject has been erased" });
    expect(refusal(() => open("DISCLOSURE"))).toMatchObject({ code: "SUBJECT_INACTIVE" });
    expect(refusal(() => open("CORRECTION", true))).toMatchObject({ code: "SUBJECT_INACTIVE" });
  });
});

describe("the text behind a digest", () => {
  it("is carried by a publication up to 200,000 characters", () => {
    expect(DOCUMENT_TEXT_LENGTH).toBe(200_000);
    expect(decidePublish(publishCommand({ documentText: "x".repeat(200_000) }), baseCatalog(), NOW).data).toMatchObject({ documentText: expect.any(String) });
    expect(refusal(() => decidePublish(publishCommand({ documentText: "x".repeat(200_001) }), baseCatalog(), NOW))).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "documentText" } });
    expect(toPublishCommand({ ...publishCommand(), documentText: "本文" }).documentText).toBe("本文");
  });

  it("and the controller names its representative", () => {
    const c = toPublishCommand({ ...publishCommand(), controller: { name: "Acme", representative: "代表取締役 山田" } });
    expect(c.controller).toMatchObject({ name: "Acme", representative: "代表取締役 山田", address: null });
    expect(toPublishCommand({ ...publishCommand(), controller: { name: "Acme" } }).controller!.representative).toBeNull();
    expect(refusal(() => decidePublish(publishCommand({ controller: { ...c.controller!, representative: "x".repeat(2_049) } }), baseCatalog(), NOW))).toMatchObject({ details: { field: "controller.representative" } });
  });
});

describe("coveredDataCategories", () => {
  const catalog = Catalog.of([
    ...baseCatalog().get("base")!.versions.slice(0, 1),
    { ...baseCatalog().get("base")!.versions[1]!, purposes: [P.service, P.analytics, { ...P.location, dataCategories: ["location", "profile"] }] },
  ]);
  const decide = (facts: Parameters<typeof subjectOf>[0], purposeId: string) => decidePermission(catalog, viewOf(subjectOf(facts)), "base", purposeId, { at: NOW, knownAt: NOW });

  it("are those the purpose listed where the grant was made; the applicable version's without a grant; none when not permitted", () => {
    expect(decide([accepted("base", 1, day(1)), granted("base", 1, "location", day(1))], "location").coveredDataCategories).toEqual(["profile"]);
    expect(decide([accepted("base", 1, day(1)), granted("base", 2, "location", day(11))], "location").coveredDataCategories).toEqual(["location", "profile"]);
    expect(decide([accepted("base", 1, day(1))], "analytics").coveredDataCategories).toEqual(["profile"]);
    expect(decide([accepted("base", 1, day(1))], "location").coveredDataCategories).toEqual([]);
  });

  it("are none for a purpose permitted although the subject's last word on it was a withdrawal (made REQUIRED later)", () => {
    const made = Catalog.of([
      version("base", 1, { requiresConsent: true, effectiveAt: day(0), publishedAt: day(-1), purposes: [P.analytics] }),
      version("base", 2, { requiresConsent: false, effectiveAt: day(10), publishedAt: day(9), purposes: [{ ...P.analytics, mode: "REQUIRED" }] }),
    ]);
    const d = decidePermission(made, viewOf(subjectOf([accepted("base", 1, day(1)), withdrawn("base", 1, "analytics", day(2))])), "base", "analytics", { at: NOW, knownAt: NOW });
    expect(d).toMatchObject({ permitted: true, reason: "REQUIRED_FOR_SERVICE", coveredDataCategories: [], coveredRecipients: [] });
  });
});

describe("the extension cap as a subject command", () => {
  const [opened] = decideOpenDataRequest({ requestId: "r1", kind: "DISCLOSURE", note: null, dueDays: 14 }, subjectOf([]), day(2));
  // A state whose request earlier extensions (two, when there were any) moved by `extendedDays` in total.
  const extend = (days: number, extendedDays: number, bounds = {}) => {
    const facts = [opened!];
    for (const d of [extendedDays - Math.floor(extendedDays / 2), Math.floor(extendedDays / 2)].filter((n) => n > 0))
      facts.push(...decideExtendDataRequest(subjectOf(facts), "r1", d, "x", NOW));
    return decideSubjectCommand({ kind: "extendDataRequest", subjectId: "s", requestId: "r1", days, reason: "x" }, subjectOf(facts), baseCatalog(), NOW, bounds);
  };

  it("is 60 days by default, or the operator's maxExtensionDays, counting earlier extensions", () => {
    expect(extend(10, 50)).toHaveLength(1);
    expect(refusal(() => extend(11, 50))).toMatchObject({ code: "BAD_USER_INPUT", details: { maxDays: 60, extendedDays: 50 } });
    expect(extend(5, 0, { maxExtensionDays: 5 })).toHaveLength(1);
    expect(refusal(() => extend(6, 0, { maxExtensionDays: 5 }))).toMatchObject({ details: { maxDays: 5 } });
  });
});
