// The subject fold of data requests and of the stream version, and which events a past read sees.
import { describe, expect, it } from "vitest";
import type { DomainEvent } from "../../src/domain/events.js";
import { evolve, initialSubject, visibleAt } from "../../src/domain/subject.js";
import { DAY_MS } from "../../src/domain/time.js";
import { type Fact, day, history, subjectOf } from "./fixtures.js";

const opened = (requestId: string, at: number, note?: string): Fact => ({
  type: "DataRequestOpened",
  occurredAt: at,
  data: { requestId, kind: "DELETION", dueAt: at + 30 * DAY_MS, ...(note ? { note: { plain: note } } : {}) },
});
const verified = (requestId: string, at: number): Fact => ({ type: "DataRequestIdentityVerified", occurredAt: at, data: { requestId, method: { plain: "passport" } } });
const closed = (requestId: string, at: number, fulfilled: boolean, note?: string): Fact => ({
  type: "DataRequestClosed",
  occurredAt: at,
  data: { requestId, fulfilled, ...(note ? { note: { plain: note } } : {}) },
});

describe("the fold of a data request", () => {
  it("opens it for the subject, due when the event says, with its note", () => {
    expect(subjectOf([opened("r1", day(2), "please delete")]).dataRequests.get("r1")).toEqual({
      id: "r1",
      subjectId: "s",
      kind: "DELETION",
      status: "OPEN",
      openedAt: day(2),
      dueAt: day(32),
      closedAt: null,
      note: { plain: "please delete" },
      purposeIds: null,
      closingNote: null,
      identityLabel: null,
      extendedDays: 0,
    });
    expect(subjectOf([opened("r1", day(2))]).dataRequests.get("r1")!.note).toBeNull();
  });

  it("marks the requester verified, and ignores a verification of an unknown request", () => {
    expect(subjectOf([opened("r1", day(2)), verified("r1", day(3))]).dataRequests.get("r1")).toMatchObject({ status: "IDENTITY_VERIFIED", closedAt: null });
    const s = subjectOf([verified("r9", day(3))]);
    expect(s.dataRequests.size).toBe(0);
    expect(s.version).toBe(1);
  });

  it("closes it fulfilled or rejected, when it was closed, with the closing note", () => {
    expect(subjectOf([opened("r1", day(2)), closed("r1", day(4), true, "done")]).dataRequests.get("r1")).toMatchObject({
      status: "FULFILLED",
      closedAt: day(4),
      note: { plain: "done" },
    });
    expect(subjectOf([opened("r1", day(2)), closed("r1", day(4), false)]).dataRequests.get("r1")).toMatchObject({ status: "REJECTED", closedAt: day(4) });
  });

  it("keeps the requester's note when the closing carries none", () => {
    expect(subjectOf([opened("r1", day(2), "please"), closed("r1", day(4), true)]).dataRequests.get("r1")!.note).toEqual({ plain: "please" });
  });

  it("ignores the closing of an unknown request, counting the event", () => {
    const s = subjectOf([closed("r9", day(4), true)]);
    expect(s.dataRequests.size).toBe(0);
    expect(s.version).toBe(1);
  });

  it("keeps requests apart", () => {
    const s = subjectOf([opened("r1", day(2)), opened("r2", day(3)), closed("r1", day(4), false)]);
    expect([...s.dataRequests.values()].map((r) => [r.id, r.status])).toEqual([
      ["r1", "REJECTED"],
      ["r2", "OPEN"],
    ]);
  });

  it("leaves the subject's status, consents and acceptances alone", () => {
    const s = subjectOf([opened("r1", day(2)), verified("r1", day(3)), closed("r1", day(4), true)]);
    expect(s).toMatchObject({ status: "ACTIVE", version: 3 });
    expect(s.consents.size + s.acceptances.size).toBe(0);
  });
});

describe("the stream version", () => {
  it("is the highest stream version folded, whatever the order", () => {
    const [a, b] = history("s", [opened("r1", day(2)), opened("r2", day(3))]);
    expect(evolve(evolve(initialSubject("s"), b!), a!).version).toBe(2);
  });

  it("counts a publication without changing anything else", () => {
    const publication = { type: "PolicyVersionPublished", occurredAt: day(1), data: {} } as unknown as DomainEvent;
    const [e] = history("s", [publication as Fact]);
    expect(evolve(initialSubject("s"), e!)).toEqual({ ...initialSubject("s"), version: 1 });
  });
});

describe("visibleAt", () => {
  const e = { occurredAt: day(2), recordedAt: day(3) };

  it("sees an event that occurred by `at` and was recorded by `knownAt`, both bounds included", () => {
    expect(visibleAt(e, { at: day(2), knownAt: day(3) })).toBe(true);
    expect(visibleAt(e, { at: day(9), knownAt: day(9) })).toBe(true);
  });

  it("does not see it a millisecond before either", () => {
    expect(visibleAt(e, { at: day(2) - 1, knownAt: day(3) })).toBe(false);
    expect(visibleAt(e, { at: day(2), knownAt: day(3) - 1 })).toBe(false);
  });
});
