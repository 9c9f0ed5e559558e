// The lifecycle fold beyond ACTIVE and SUSPENDED: scoped suspensions, returning after leaving,
// merging, erasure; overdue requests and the identity check's label.
import { describe, expect, it } from "vitest";
import type { DomainEvent } from "../../src/domain/events.js";
import { INITIAL_LIFECYCLE, LIFECYCLE_EVENTS, type Lifecycle, identityLabelOf, isOverdue, nextLifecycle } from "../../src/domain/subject.js";
import { type Fact, accepted, day, lifecycle, subjectOf } from "./fixtures.js";

const suspend = (at: number, purposeIds?: string[]): Fact => ({ type: "ProcessingSuspended", occurredAt: at, data: purposeIds ? { purposeIds } : {} });
const merged = (at: number, into: string): Fact => ({ type: "SubjectMerged", occurredAt: at, data: { into } });
const next = (l: Lifecycle, f: Fact) => nextLifecycle(l, f as DomainEvent);
const of = (over: Partial<Lifecycle>): Lifecycle => ({ ...INITIAL_LIFECYCLE, ...over });

describe("a scoped suspension", () => {
  it("suspends the purposes it names, adding to those already suspended, and leaves the subject ACTIVE", () => {
    const s = subjectOf([suspend(day(1), ["ads"]), suspend(day(2), ["location", "ads"])]);
    expect(s.status).toBe("ACTIVE");
    expect([...s.suspendedPurposes]).toEqual(["ads", "location"]);
  });

  it("with an empty list suspends every purpose", () => {
    expect(subjectOf([suspend(day(1), [])]).status).toBe("SUSPENDED");
  });

  it("changes nothing for a subject already SUSPENDED or LEFT", () => {
    const suspended = of({ status: "SUSPENDED" });
    expect(next(suspended, suspend(day(1), ["ads"]))).toBe(suspended);
    const left = of({ status: "LEFT" });
    expect(next(left, suspend(day(1), ["ads"]))).toBe(left);
  });

  it("is lifted by resuming, which leaves the subject ACTIVE", () => {
    const s = subjectOf([suspend(day(1), ["ads"]), lifecycle("ProcessingResumed", day(2))]);
    expect(s.status).toBe("ACTIVE");
    expect(s.suspendedPurposes.size).toBe(0);
  });

  it("is dropped on leaving and on erasure", () => {
    expect(subjectOf([suspend(day(1), ["ads"]), lifecycle("SubjectLeft", day(2))]).suspendedPurposes.size).toBe(0);
    expect(subjectOf([suspend(day(1), ["ads"]), lifecycle("SubjectErased", day(2))]).suspendedPurposes.size).toBe(0);
  });
});

describe("resuming", () => {
  it("changes nothing for an ACTIVE subject with nothing suspended, or one who left", () => {
    const active = of({});
    expect(next(active, lifecycle("ProcessingResumed", day(1)))).toBe(active);
    const left = of({ status: "LEFT", suspendedPurposes: new Set(["ads"]) });
    expect(next(left, lifecycle("ProcessingResumed", day(1)))).toEqual({ ...left, suspendedPurposes: new Set() });
  });
});

describe("returning after leaving", () => {
  it("makes the subject ACTIVE again from the instant of return", () => {
    const s = subjectOf([accepted("base", 1, day(1)), lifecycle("SubjectLeft", day(2)), lifecycle("SubjectReturned", day(3))]);
    expect(s).toMatchObject({ status: "ACTIVE", returnedAt: day(3) });
  });

  it("changes nothing for a subject who had not left", () => {
    const suspended = of({ status: "SUSPENDED" });
    expect(next(suspended, lifecycle("SubjectReturned", day(3)))).toBe(suspended);
    expect(subjectOf([lifecycle("SubjectReturned", day(3))])).toMatchObject({ status: "ACTIVE", returnedAt: null });
  });
});

describe("merging", () => {
  it("makes the subject MERGED into the one named", () => {
    expect(subjectOf([accepted("base", 1, day(1)), merged(day(2), "acct-1")])).toMatchObject({ status: "MERGED", mergedInto: "acct-1" });
  });

  it("leaves an erased subject erased", () => {
    expect(subjectOf([lifecycle("SubjectErased", day(1)), merged(day(2), "acct-1")])).toMatchObject({ status: "ERASED", mergedInto: null });
  });
});

describe("LIFECYCLE_EVENTS", () => {
  it("are the events that change the lifecycle, and no others", () => {
    expect([...LIFECYCLE_EVENTS].sort()).toEqual(["ProcessingResumed", "ProcessingSuspended", "SubjectErased", "SubjectLeft", "SubjectMerged", "SubjectReturned"]);
  });
});

describe("isOverdue", () => {
  it("is true for an open or verified request past its due date, from the millisecond after it", () => {
    expect(isOverdue({ status: "OPEN", dueAt: day(5) }, day(5) + 1)).toBe(true);
    expect(isOverdue({ status: "IDENTITY_VERIFIED", dueAt: day(5) }, day(6))).toBe(true);
    expect(isOverdue({ status: "OPEN", dueAt: day(5) }, day(5))).toBe(false);
  });

  it("is false for a closed request, however late", () => {
    expect(isOverdue({ status: "FULFILLED", dueAt: day(5) }, day(9))).toBe(false);
    expect(isOverdue({ status: "REJECTED", dueAt: day(5) }, day(9))).toBe(false);
  });
});

describe("identityLabelOf", () => {
  it.each([
    ["document: passport 123", "document"],
    ["  Video-Call :  seen", "video-call"],
    ["a_b: x", "a_b"],
    [`${"a".repeat(40)}: x`, "a".repeat(40)],
  ])("takes the slug of %j", (method, label) => {
    expect(identityLabelOf(method)).toBe(label);
  });

  it.each([["passport"], ["1doc: x"], [`${"a".repeat(41)}: x`], ["doc x: y"], [": x"], ["x document: y"]])("records %j without a slug as \"recorded\"", (method) => {
    expect(identityLabelOf(method)).toBe("recorded");
  });
});
