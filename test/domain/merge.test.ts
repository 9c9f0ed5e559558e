// mergeSubjects: which of `from`'s choices and acceptances are carried into `into`, and what is refused.
import { describe, expect, it } from "vitest";
import { decideMerge } from "../../src/domain/merge.js";
import { foldSubject } from "../../src/domain/subject.js";
import { type Fact, accepted, day, granted, history, lifecycle, withdrawn } from "./fixtures.js";
import { refusal } from "../support/common.js";

const NOW = day(20);
const state = (id: string, facts: readonly Fact[]) => foldSubject(id, history(id, facts));

describe("decideMerge refuses", () => {
  const a = state("a", [accepted("base", 1, day(1))]);

  it("merging a subject into itself", () => {
    expect(refusal(() => decideMerge(a, a, NOW))).toMatchObject({ code: "BAD_USER_INPUT", message: "a subject cannot be merged into itself" });
  });

  it("a subject with no history to merge from", () => {
    expect(refusal(() => decideMerge(state("empty", []), a, NOW))).toMatchObject({ code: "BAD_USER_INPUT", message: "the subject to merge from has no history" });
  });

  it("an inactive subject on either side", () => {
    const left = state("left", [accepted("base", 1, day(1)), lifecycle("SubjectLeft", day(2))]);
    expect(refusal(() => decideMerge(left, a, NOW))).toMatchObject({ code: "SUBJECT_INACTIVE" });
    expect(refusal(() => decideMerge(a, left, NOW))).toMatchObject({ code: "SUBJECT_INACTIVE" });
  });
});

describe("decideMerge carries over", () => {
  it("acceptances `into` lacks or holds at a lower version, with their own times", () => {
    const from = state("a", [accepted("base", 2, day(3)), accepted("jp", 1, day(2)), accepted("eu", 1, day(4))]);
    const into = state("b", [accepted("base", 1, day(5)), accepted("jp", 1, day(1)), accepted("eu", 2, day(1))]);
    const { fromEvents, intoEvents } = decideMerge(from, into, NOW);
    expect(fromEvents).toEqual([{ type: "SubjectMerged", occurredAt: NOW, data: { into: "b" } }]);
    // base: 2 > 1 is carried; jp: the same version is not; eu: 1 < 2 is not.
    expect(intoEvents).toEqual([{ type: "PolicyAccepted", occurredAt: day(3), data: { policyId: "base", version: 2, mergedFrom: "a" } }]);
  });

  it("choices later than `into`'s own for the same purpose, grants with their expiry and withdrawals", () => {
    const from = state("a", [
      accepted("base", 1, day(1)),
      granted("base", 1, "ads", day(3), { ttlDays: 30 }),
      withdrawn("base", 1, "analytics", day(4)),
      granted("base", 1, "location", day(2)),
      granted("base", 1, "news", day(6)),
    ]);
    const into = state("b", [
      accepted("base", 1, day(1)),
      withdrawn("base", 1, "ads", day(2)),
      granted("base", 1, "location", day(2)),
      granted("base", 1, "news", day(7)),
    ]);
    const { intoEvents } = decideMerge(from, into, NOW);
    expect(intoEvents).toEqual([
      { type: "ConsentGranted", occurredAt: day(3), data: { policyId: "base", version: 1, purposeId: "ads", mergedFrom: "a", expiresAt: day(33) } },
      { type: "ConsentWithdrawn", occurredAt: day(4), data: { policyId: "base", version: 1, purposeId: "analytics", mergedFrom: "a" } },
    ]);
  });

  it("no grant from before `from` came back after leaving, but its later grants and any withdrawal", () => {
    const from = state("a", [
      accepted("base", 1, day(1)),
      granted("base", 1, "ads", day(2)),
      withdrawn("base", 1, "analytics", day(2)),
      lifecycle("SubjectLeft", day(3)),
      lifecycle("SubjectReturned", day(4)),
      accepted("base", 1, day(4)),
      granted("base", 1, "location", day(4)),
    ]);
    const into = state("b", [accepted("base", 1, day(1))]);
    const carried = decideMerge(from, into, NOW).intoEvents.map((e) => [e.type, (e.data as { purposeId?: string }).purposeId]);
    expect(carried).toEqual([
      ["ConsentWithdrawn", "analytics"],
      ["ConsentGranted", "location"],
    ]);
  });
});
