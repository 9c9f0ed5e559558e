// The subject fold: lifecycle, last-writer-wins by valid time, and order independence.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { LedgerEvent } from "../../src/domain/events.js";
import { foldSubject, initialSubject, nextStatus } from "../../src/domain/subject.js";
import { accepted, day, granted, history, lifecycle, subjectOf, withdrawn } from "./fixtures.js";

describe("foldSubject", () => {
  it("starts active at version 0 with nothing recorded", () => {
    expect(foldSubject("s", [])).toEqual(initialSubject("s"));
  });

  it("counts the stream's events as its version", () => {
    expect(subjectOf([accepted("base", 1, day(1)), granted("base", 1, "location", day(1))]).version).toBe(2);
  });

  it("keeps the highest accepted version, whatever the order of the acceptances", () => {
    const s = subjectOf([accepted("base", 2, day(5)), accepted("base", 1, day(6))]);
    expect(s.acceptances.get("base")).toMatchObject({ version: 2, acceptedAt: day(5) });
  });

  it("keeps the first acceptance of the same version in valid time", () => {
    const s = subjectOf([accepted("base", 1, day(5)), accepted("base", 1, day(3))]);
    expect(s.acceptances.get("base")).toMatchObject({ version: 1, acceptedAt: day(3), position: 2 });
  });

  it("lets the later choice in valid time win, and the later append break a tie", () => {
    expect(subjectOf([withdrawn("base", 1, "x", day(3)), granted("base", 1, "x", day(2))]).consents.get("base\u0000x")).toMatchObject({ granted: false });
    expect(subjectOf([granted("base", 1, "x", day(3)), withdrawn("base", 1, "x", day(3))]).consents.get("base\u0000x")).toMatchObject({ granted: false, position: 2 });
  });

  it("keeps choices per policy and purpose", () => {
    const s = subjectOf([granted("a", 1, "x", day(1)), withdrawn("b", 1, "x", day(2))]);
    expect(s.consents.get("a\u0000x")?.granted).toBe(true);
    expect(s.consents.get("b\u0000x")?.granted).toBe(false);
  });

  it("as of an instant, leaves out what had not occurred or was not yet recorded", () => {
    const facts = [granted("base", 1, "x", day(1)), withdrawn("base", 1, "x", day(2), day(5))];
    expect(subjectOf(facts, { at: day(3), knownAt: day(4) }).consents.get("base\u0000x")?.granted).toBe(true);
    expect(subjectOf(facts, { at: day(3), knownAt: day(5) }).consents.get("base\u0000x")?.granted).toBe(false);
    expect(subjectOf(facts, { at: day(0.5), knownAt: day(9) }).consents.size).toBe(0);
  });
});

describe("the lifecycle", () => {
  it.each([
    ["ACTIVE", "ProcessingSuspended", "SUSPENDED"],
    ["SUSPENDED", "ProcessingResumed", "ACTIVE"],
    ["ACTIVE", "ProcessingResumed", "ACTIVE"],
    ["LEFT", "ProcessingSuspended", "LEFT"],
    ["LEFT", "ProcessingResumed", "LEFT"],
    ["SUSPENDED", "SubjectLeft", "LEFT"],
    ["LEFT", "SubjectErased", "ERASED"],
    ["ERASED", "SubjectLeft", "ERASED"],
    ["ERASED", "ProcessingResumed", "ERASED"],
    ["ACTIVE", "ConsentGranted", "ACTIVE"],
  ] as const)("%s after %s is %s", (from, type, to) => {
    expect(nextStatus(from, type)).toBe(to);
  });

  it("folds a subject that left and was erased to ERASED", () => {
    expect(subjectOf([lifecycle("ProcessingSuspended", day(1)), lifecycle("SubjectLeft", day(2)), lifecycle("SubjectErased", day(3))]).status).toBe("ERASED");
  });
});

describe("order independence of consent and acceptance (what lets imports land late)", () => {
  const fact = fc.oneof(
    fc.record({ kind: fc.constant("accept" as const), version: fc.integer({ min: 1, max: 3 }), at: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ kind: fc.constantFrom("grant" as const, "withdraw" as const), purpose: fc.constantFrom("x", "y"), at: fc.integer({ min: 0, max: 20 }) }),
  );

  it("folding the same events in any order gives the same consents and acceptances", () => {
    fc.assert(
      fc.property(fc.array(fact, { maxLength: 12 }), fc.infiniteStream(fc.nat()), (facts, randoms) => {
        const events = history(
          "s",
          facts.map((f) =>
            f.kind === "accept" ? accepted("base", f.version, day(f.at)) : f.kind === "grant" ? granted("base", 1, f.purpose, day(f.at)) : withdrawn("base", 1, f.purpose, day(f.at)),
          ),
        );
        const shuffled: LedgerEvent[] = [...events];
        const it = randoms[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = it.next().value % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const a = foldSubject("s", events);
        const b = foldSubject("s", shuffled);
        expect(b.consents).toEqual(a.consents);
        expect(b.acceptances).toEqual(a.acceptances);
        expect(b.version).toBe(a.version);
      }),
      { numRuns: 200 },
    );
  });
});
