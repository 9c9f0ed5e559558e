// The event vocabulary: which types exist, which change consent, and the stream names.
import { describe, expect, it } from "vitest";
import { ACTOR_KINDS, CONSENT_AFFECTING, DATA_REQUEST_KINDS, EVENT_TYPES, TRANSFER_BASES, TRANSFER_DIRECTIONS, isEventType, policyStream, subjectStream } from "../../src/domain/events.js";

describe("the event types", () => {
  it("are the contract's twenty, each known by isEventType", () => {
    expect([...EVENT_TYPES]).toEqual([
      "PolicyVersionPublished",
      "PolicyAccepted",
      "ConsentGranted",
      "ConsentWithdrawn",
      "ProcessingSuspended",
      "ProcessingResumed",
      "SubjectLeft",
      "SubjectReturned",
      "SubjectErased",
      "SubjectMerged",
      "ConsentExpired",
      "PolicyVersionEffective",
      "ThirdPartyTransferRecorded",
      "DataRequestOpened",
      "DataRequestIdentityVerified",
      "DataRequestClosed",
      "DataRequestExtended",
      "PersonalDataAccessed",
      "NoticeShown",
      "PolicyAnnounced",
    ]);
    for (const t of EVENT_TYPES) expect(isEventType(t), t).toBe(true);
  });

  it("leave out anything else", () => {
    for (const t of ["", "ConsentGranted ", "consentGranted", "Unknown"]) expect(isEventType(t), t).toBe(false);
  });

  it("that change consent are those consentChanged reports", () => {
    expect([...CONSENT_AFFECTING].sort()).toEqual(
      ["ConsentExpired", "ConsentGranted", "ConsentWithdrawn", "PolicyAccepted", "ProcessingResumed", "ProcessingSuspended", "SubjectErased", "SubjectLeft", "SubjectMerged", "SubjectReturned"].sort(),
    );
  });
});

describe("the vocabularies of event data", () => {
  it("name the actors, request kinds, transfer directions and bases of the contract", () => {
    expect([...ACTOR_KINDS]).toEqual(["SUBJECT", "SERVICE", "OFFICER", "SYSTEM"]);
    expect([...DATA_REQUEST_KINDS]).toEqual(["DISCLOSURE", "CORRECTION", "DELETION", "SUSPENSION"]);
    expect([...TRANSFER_DIRECTIONS]).toEqual(["PROVIDED", "RECEIVED"]);
    expect([...TRANSFER_BASES]).toEqual(["CONSENT", "OUTSOURCING", "BUSINESS_SUCCESSION", "JOINT_USE", "LAW", "VITAL_INTEREST", "PUBLIC_HEALTH", "GOVERNMENT"]);
  });
});

describe("stream names", () => {
  it("prefix the subject's or policy's id with its kind", () => {
    expect(subjectStream("u-1")).toBe("subject:u-1");
    expect(policyStream("base")).toBe("policy:base");
  });
});
