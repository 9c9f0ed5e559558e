// Details the other domain tests left unasserted: the field an occurredAt refusal names, verified
// requests in the quota, the words of UNKNOWN_PURPOSE, the recipients of a withdrawn required
// purpose, the fold of extensions and of other streams' events, and the clock's stream name.
import { describe, expect, it } from "vitest";
import { CLOCK_STREAM, SYSTEM_CLOCK, decideSubjectCommand } from "../../src/domain/command.js";
import { Catalog, standingOf } from "../../src/domain/catalog.js";
import { decideOpenDataRequest, decideVerifyIdentity } from "../../src/domain/decide.js";
import type { LedgerEvent } from "../../src/domain/events.js";
import { decidePermission, decideUnder, governingPolicy } from "../../src/domain/permission.js";
import { evolve, initialSubject } from "../../src/domain/subject.js";
import { DAY_MS } from "../../src/domain/time.js";
import { type Fact, P, accepted, baseCatalog, day, history, subjectOf, version, viewOf, withdrawn } from "./fixtures.js";

const NOW = day(20);

describe("an occurredAt refused as too early", () => {
  const record = (occurredAt: number, occurredAtFloor?: number) =>
    decideSubjectCommand(
      { kind: "recordConsent", subjectId: "s", input: { policyId: "base", policyVersion: 1, acceptPolicy: false, grant: [], withdraw: ["analytics"], occurredAt, evidence: null, expectedVersion: null } },
      subjectOf([]),
      baseCatalog(),
      NOW,
      { occurredAtFloor },
    );

  it("names the field, before the version was shown and before the floor", () => {
    expect(() => record(day(-1) - 1)).toThrow(
      expect.objectContaining({ details: { field: "occurredAt" }, message: `occurredAt lies before version 1 of base was published or took effect (${new Date(day(-1)).toISOString()})` }),
    );
    expect(() => record(day(3) - 1, day(3))).toThrow(
      expect.objectContaining({ details: { field: "occurredAt" }, message: `occurredAt lies before the earliest instant this ledger accepts (${new Date(day(3)).toISOString()})` }),
    );
  });
});

describe("the quota of open data requests", () => {
  it("counts a request whose requester was verified as still open", () => {
    const [opened] = decideOpenDataRequest({ requestId: "r1", kind: "DISCLOSURE", note: null, dueDays: 14 }, subjectOf([]), day(1));
    const [verified] = decideVerifyIdentity(subjectOf([opened!]), "r1", "passport", day(2));
    expect(() => decideOpenDataRequest({ requestId: "r2", kind: "DISCLOSURE", note: null, dueDays: 14 }, subjectOf([opened!, verified!]), NOW, 1)).toThrow(
      expect.objectContaining({ code: "TOO_MANY_OPEN_REQUESTS" }),
    );
  });
});

describe("a purpose no version defines", () => {
  const policy = baseCatalog().get("base")!;
  const asOf = { at: NOW, knownAt: NOW };

  it("is refused by decideUnder and governingPolicy, naming the purpose and the policy", () => {
    expect(() => decideUnder(policy, standingOf(policy, 1, asOf), viewOf(subjectOf([])), "telepathy", asOf)).toThrow(
      expect.objectContaining({ code: "UNKNOWN_PURPOSE", message: "purpose telepathy is not defined by policy base" }),
    );
    expect(() => governingPolicy(baseCatalog(), "base", "telepathy", NOW)).toThrow(expect.objectContaining({ code: "UNKNOWN_PURPOSE", message: "purpose telepathy is not defined by policy base" }));
  });
});

describe("a required purpose the subject withdrew under an earlier version", () => {
  it("is permitted for the service but covers no recipient", () => {
    const optIn = { ...P.location, recipients: [{ id: "maps", name: "Maps", kind: "PROCESSOR" as const, country: null, privacyPolicyUrl: null }] };
    const catalog = Catalog.of([
      version("p", 1, { requiresConsent: false, effectiveAt: day(0), purposes: [optIn] }),
      version("p", 2, { requiresConsent: false, effectiveAt: day(5), purposes: [{ ...optIn, mode: "REQUIRED" }] }),
    ]);
    const s = subjectOf([accepted("p", 1, day(1)), withdrawn("p", 1, "location", day(2))]);
    const d = decidePermission(catalog, viewOf(s), "p", "location", { at: NOW, knownAt: NOW });
    expect(d).toMatchObject({ permitted: true, reason: "REQUIRED_FOR_SERVICE", coveredRecipients: [] });
  });
});

describe("the fold", () => {
  it("moves a request's due date when it is extended, and ignores an extension of an unknown request", () => {
    const opened: Fact = { type: "DataRequestOpened", occurredAt: day(1), data: { requestId: "r1", kind: "DISCLOSURE", dueAt: day(15) } };
    const extended = (requestId: string): Fact => ({ type: "DataRequestExtended", occurredAt: day(2), data: { requestId, days: 7, dueAt: day(22), reason: "x" } });
    expect(subjectOf([opened, extended("r1")]).dataRequests.get("r1")).toMatchObject({ dueAt: day(22), status: "OPEN" });
    const s = subjectOf([opened, extended("r9")]);
    expect(s.dataRequests.get("r1")!.dueAt).toBe(day(15));
    expect(s.dataRequests.has("r9")).toBe(false);
  });

  it("counts only the subject's own stream in its version", () => {
    const [own] = history("s", [accepted("base", 1, day(1))]);
    const other = { ...own!, streamId: "subject:t", streamVersion: 7 } as LedgerEvent;
    expect(evolve(initialSubject("s"), other).version).toBe(0);
    expect(evolve(initialSubject("s"), own!).version).toBe(1);
  });

  it("keeps a request's due date in whole days from its opening", () => {
    expect(decideOpenDataRequest({ requestId: "r1", kind: "DISCLOSURE", note: null, dueDays: 3 }, subjectOf([]), NOW)[0]!.data).toMatchObject({ dueAt: NOW + 3 * DAY_MS });
  });
});

describe("the ledger's clock", () => {
  it("writes on its own stream as the SYSTEM actor", () => {
    expect(CLOCK_STREAM).toBe("system:clock");
    expect(SYSTEM_CLOCK).toEqual({ kind: "SYSTEM", id: "clock" });
  });
});
