// Data requests and the lifecycle commands: the closing rules for each kind and subject status, and
// the limits of the free texts they carry.
import { describe, expect, it } from "vitest";
import {
  decideCloseDataRequest,
  decideErase,
  decideOpenDataRequest,
  decideSuspend,
  decideVerifyIdentity,
} from "../../src/domain/decide.js";
import type { DataRequestKind } from "../../src/domain/events.js";
import type { SubjectState } from "../../src/domain/subject.js";
import { DAY_MS } from "../../src/domain/time.js";
import { type Fact, day, lifecycle, subjectOf } from "./fixtures.js";

const NOW = day(20);

/** Request r1 of `kind` opened on day 2 and its requester verified on day 3. */
function requestFacts(kind: DataRequestKind): Fact[] {
  const opened = decideOpenDataRequest({ requestId: "r1", kind, note: null, dueDays: 30 }, subjectOf([]), day(2));
  return [...opened, ...decideVerifyIdentity(subjectOf(opened), "r1", "passport", day(3))];
}

/** A subject with a verified request r1 of `kind`, then `after`. */
const verifiedRequest = (kind: DataRequestKind, after: Fact[] = []): SubjectState => subjectOf([...requestFacts(kind), ...after]);

describe("fulfilling a SUSPENSION request", () => {
  it("for a subject erased meanwhile only closes it", () => {
    const s = verifiedRequest("SUSPENSION", [lifecycle("SubjectErased", day(4))]);
    expect(decideCloseDataRequest(s, "r1", true, null, NOW)).toEqual([{ type: "DataRequestClosed", occurredAt: NOW, data: { requestId: "r1", fulfilled: true } }]);
  });

  it("for a subject who left meanwhile only closes it", () => {
    const s = verifiedRequest("SUSPENSION", [lifecycle("SubjectLeft", day(4))]);
    expect(decideCloseDataRequest(s, "r1", true, null, NOW).map((e) => e.type)).toEqual(["DataRequestClosed"]);
  });

  it("for an active subject suspends processing, naming the request", () => {
    expect(decideCloseDataRequest(verifiedRequest("SUSPENSION"), "r1", true, null, NOW)[1]).toEqual({
      type: "ProcessingSuspended",
      occurredAt: NOW,
      data: { dataRequestId: "r1" },
    });
  });
});

describe("fulfilling a DELETION request", () => {
  it("for a subject erased meanwhile only closes it", () => {
    const s = verifiedRequest("DELETION", [lifecycle("SubjectErased", day(4))]);
    expect(decideCloseDataRequest(s, "r1", true, null, NOW).map((e) => e.type)).toEqual(["DataRequestClosed"]);
  });

  it("for a subject who left erases it", () => {
    const s = verifiedRequest("DELETION", [lifecycle("SubjectLeft", day(4))]);
    expect(decideCloseDataRequest(s, "r1", true, null, NOW).map((e) => e.type)).toEqual(["DataRequestClosed", "SubjectErased"]);
  });
});

describe("rejecting a request", () => {
  it.each(["DELETION", "SUSPENSION", "CORRECTION"] as const)("of kind %s closes it unfulfilled and changes nothing else", (kind) => {
    expect(decideCloseDataRequest(verifiedRequest(kind), "r1", false, "not the account holder", NOW)).toEqual([
      // The officer's note is the officer's own record, not the subject's personal data: kept in the clear, through erasure.
      { type: "DataRequestClosed", occurredAt: NOW, data: { requestId: "r1", fulfilled: false, officerNote: "not the account holder" } },
    ]);
  });
});

describe("a closed request", () => {
  it("refuses to be closed again or verified, whether fulfilled or rejected", () => {
    for (const fulfilled of [true, false]) {
      const facts = requestFacts("DISCLOSURE");
      const closed = subjectOf([...facts, ...decideCloseDataRequest(subjectOf(facts), "r1", fulfilled, fulfilled ? null : "理由", day(4))]);
      expect(() => decideCloseDataRequest(closed, "r1", false, "理由", NOW)).toThrow(expect.objectContaining({ code: "INVALID_STATE", message: "data request r1 is already closed" }));
      expect(() => decideVerifyIdentity(closed, "r1", "passport", NOW)).toThrow(expect.objectContaining({ code: "INVALID_STATE" }));
    }
  });

  it("an unknown one is NOT_FOUND, naming it", () => {
    expect(() => decideCloseDataRequest(subjectOf([]), "r9", false, "理由", NOW)).toThrow(expect.objectContaining({ code: "NOT_FOUND", message: "no data request r9" }));
  });
});

describe("the free texts of requests", () => {
  it("a verification method of up to 256 characters, refused beyond, naming the field", () => {
    const opened = subjectOf(decideOpenDataRequest({ requestId: "r1", kind: "DISCLOSURE", note: null, dueDays: 30 }, subjectOf([]), day(2)));
    expect(decideVerifyIdentity(opened, "r1", "x".repeat(256), NOW)).toHaveLength(1);
    expect(() => decideVerifyIdentity(opened, "r1", "x".repeat(257), NOW)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT", details: { field: "method" } }));
    expect(() => decideVerifyIdentity(opened, "r1", "", NOW)).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT", message: "method must say how identity was verified" }),
    );
  });

  it("a closing note over the text limit is refused, naming the field", () => {
    expect(() => decideCloseDataRequest(verifiedRequest("DISCLOSURE"), "r1", true, "x".repeat(4_097), NOW)).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT", details: { field: "note" } }),
    );
  });

  it("a requester's note over the text limit is refused, naming the field", () => {
    expect(() => decideOpenDataRequest({ requestId: "r1", kind: "DISCLOSURE", note: "x".repeat(4_097), dueDays: 30 }, subjectOf([]), NOW)).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT", details: { field: "note" } }),
    );
  });

  it("a request opened without a note carries none, and is due after the given days", () => {
    expect(decideOpenDataRequest({ requestId: "r1", kind: "CORRECTION", note: null, dueDays: 30 }, subjectOf([]), NOW)).toEqual([
      { type: "DataRequestOpened", occurredAt: NOW, data: { requestId: "r1", kind: "CORRECTION", dueAt: NOW + 30 * DAY_MS } },
    ]);
  });

  it("the erased subject's refusal says so", () => {
    expect(() => decideOpenDataRequest({ requestId: "r1", kind: "DISCLOSURE", note: null, dueDays: 30 }, subjectOf([lifecycle("SubjectErased", day(1))]), NOW)).toThrow(
      expect.objectContaining({ code: "SUBJECT_INACTIVE", message: "the subject has been erased" }),
    );
  });
});

describe("suspending and erasing", () => {
  it("record the reason as personal data, and nothing when none is given", () => {
    expect(decideSuspend(subjectOf([]), "asked by phone", NOW)).toEqual([{ type: "ProcessingSuspended", occurredAt: NOW, data: { reason: { plain: "asked by phone" } } }]);
    expect(decideSuspend(subjectOf([]), null, NOW)).toEqual([{ type: "ProcessingSuspended", occurredAt: NOW, data: {} }]);
    expect(decideErase(subjectOf([]), "asked by mail", NOW)).toEqual([{ type: "SubjectErased", occurredAt: NOW, data: { reason: { plain: "asked by mail" } } }]);
    expect(decideErase(subjectOf([]), null, NOW, "r7")).toEqual([{ type: "SubjectErased", occurredAt: NOW, data: { dataRequestId: "r7" } }]);
  });

  it("refuse a reason over the text limit, naming the field", () => {
    expect(() => decideSuspend(subjectOf([]), "x".repeat(4_097), NOW)).toThrow(expect.objectContaining({ details: { field: "reason" } }));
    expect(() => decideErase(subjectOf([]), "x".repeat(4_097), NOW)).toThrow(expect.objectContaining({ details: { field: "reason" } }));
    expect(decideErase(subjectOf([]), "x".repeat(4_096), NOW)).toHaveLength(1);
  });

  it("refuse a subject who left, saying so", () => {
    expect(() => decideSuspend(subjectOf([lifecycle("SubjectLeft", day(1))]), null, NOW)).toThrow(
      expect.objectContaining({ code: "SUBJECT_INACTIVE", message: "the subject has left the service" }),
    );
  });
});
