// The recipients a decision covers (APPI Arts. 27, 28), a decision narrowed to one recipient, and
// grants from before a subject came back after leaving.
import { describe, expect, it } from "vitest";
import { Catalog, type Purpose, type Recipient } from "../../src/domain/catalog.js";
import { type Decision, choiceStatus, decidePermission, forRecipient } from "../../src/domain/permission.js";
import type { ConsentRecord } from "../../src/domain/subject.js";
import { type Fact, P, accepted, day, granted, lifecycle, purpose, subjectOf, version, viewOf, withdrawn } from "./fixtures.js";

const r = (id: string): Recipient => ({ id, name: id, kind: "THIRD_PARTY", country: null, privacyPolicyUrl: null });
const withRecipients = (p: Purpose, ...ids: string[]): Purpose => ({ ...p, recipients: ids.map(r) });

/** v1 (day 0) lists "old" for ads and analytics, "svc" for service; v2 (day 10) lists "new" instead. */
const catalog = Catalog.of([
  version("base", 1, {
    requiresConsent: false,
    effectiveAt: day(0),
    purposes: [withRecipients(P.service, "svc"), withRecipients(P.ads, "old"), withRecipients(P.analytics, "old")],
  }),
  version("base", 2, {
    requiresConsent: false,
    effectiveAt: day(10),
    purposes: [withRecipients(P.service, "svc2"), withRecipients(P.ads, "new"), withRecipients(P.analytics, "new")],
  }),
]);
const acceptedV1 = accepted("base", 1, day(1));
const decide = (facts: Fact[], purposeId: string, at = day(20), recipientId?: string) =>
  decidePermission(catalog, viewOf(subjectOf(facts)), "base", purposeId, { at, knownAt: at }, recipientId);
const covered = (d: Decision) => d.coveredRecipients.map((x) => x.id);

describe("coveredRecipients", () => {
  it("of a grant are those listed by the version it was granted under", () => {
    expect(covered(decide([acceptedV1, granted("base", 1, "ads", day(2))], "ads"))).toEqual(["old"]);
    expect(covered(decide([acceptedV1, granted("base", 2, "ads", day(12))], "ads"))).toEqual(["new"]);
  });

  it("of a purpose permitted without a grant are those of the applicable version", () => {
    expect(covered(decide([acceptedV1], "service"))).toEqual(["svc2"]);
    expect(covered(decide([acceptedV1], "analytics"))).toEqual(["new"]);
    expect(covered(decide([acceptedV1], "analytics", day(5)))).toEqual(["old"]);
  });

  it("are none for a purpose not permitted", () => {
    expect(covered(decide([acceptedV1], "ads"))).toEqual([]);
    expect(covered(decide([acceptedV1, withdrawn("base", 1, "analytics", day(2))], "analytics"))).toEqual([]);
    expect(covered(decide([acceptedV1, granted("base", 1, "ads", day(2)), lifecycle("ProcessingSuspended", day(3))], "ads"))).toEqual([]);
  });

  it("of an opt-out purpose explicitly granted are those of the version granted under", () => {
    expect(covered(decide([acceptedV1, granted("base", 1, "analytics", day(2))], "analytics"))).toEqual(["old"]);
  });
});

describe("a decision for one recipient", () => {
  it("stays permitted for a covered recipient and becomes RECIPIENT_NOT_COVERED for another", () => {
    const facts = [acceptedV1, granted("base", 1, "ads", day(2))];
    expect(decide(facts, "ads", day(20), "old")).toMatchObject({ permitted: true, reason: "GRANTED" });
    expect(decide(facts, "ads", day(20), "new")).toMatchObject({ permitted: false, reason: "RECIPIENT_NOT_COVERED", status: "GRANTED" });
  });

  it("keeps the reason of a refusal whatever the recipient", () => {
    const d = decide([acceptedV1], "ads");
    expect(forRecipient(d, "old")).toBe(d);
    expect(forRecipient(d, "old")).toMatchObject({ permitted: false, reason: "NOT_GRANTED" });
  });

  it("is the decision itself when no recipient is named", () => {
    expect(decide([acceptedV1, granted("base", 1, "ads", day(2))], "ads", day(20), undefined)).toMatchObject({ permitted: true, reason: "GRANTED" });
  });
});

describe("a subject who came back after leaving", () => {
  const left = [acceptedV1, lifecycle("SubjectLeft", day(3)), lifecycle("SubjectReturned", day(5)), accepted("base", 1, day(5))];

  it("no longer has the opt-in grants from before", () => {
    expect(decide([acceptedV1, granted("base", 1, "ads", day(2)), ...left.slice(1)], "ads", day(6))).toMatchObject({ permitted: false, reason: "NOT_GRANTED", since: null, eventId: null });
  });

  it("keeps a withdrawal from before, and a grant made on coming back", () => {
    expect(decide([acceptedV1, withdrawn("base", 1, "analytics", day(2)), ...left.slice(1)], "analytics", day(6))).toMatchObject({ permitted: false, reason: "WITHDRAWN" });
    expect(decide([...left, granted("base", 1, "ads", day(5))], "ads", day(6))).toMatchObject({ permitted: true, reason: "GRANTED", since: day(5) });
  });

  it("is treated as having left while merged into another", () => {
    const merged = { ...lifecycle("SubjectMerged", day(3)), data: { into: "x" } } as Fact;
    expect(decide([acceptedV1, merged], "service", day(6))).toMatchObject({ permitted: false, reason: "SUBJECT_LEFT" });
  });
});

describe("choiceStatus", () => {
  const rec = (over: Partial<ConsentRecord>): ConsentRecord => ({ policyId: "base", purposeId: "ads", granted: true, occurredAt: 0, expiresAt: null, version: 1, eventId: "e", position: 1, ...over });

  it("is NOT_ASKED without a record, WITHDRAWN for a withdrawal, GRANTED for a grant without expiry", () => {
    expect(choiceStatus(undefined, 5)).toBe("NOT_ASKED");
    expect(choiceStatus(rec({ granted: false, expiresAt: 1 }), 5)).toBe("WITHDRAWN");
    expect(choiceStatus(rec({}), 5)).toBe("GRANTED");
  });

  it("is EXPIRED from the instant of expiry on", () => {
    expect(choiceStatus(rec({ expiresAt: 5 }), 4)).toBe("GRANTED");
    expect(choiceStatus(rec({ expiresAt: 5 }), 5)).toBe("EXPIRED");
  });
});

describe("a purpose whose recipients are not published", () => {
  it("covers none", () => {
    const c = Catalog.of([version("p", 1, { requiresConsent: false, effectiveAt: day(0), purposes: [purpose("x", "OPT_OUT")] })]);
    expect(decidePermission(c, viewOf(subjectOf([accepted("p", 1, day(1))])), "p", "x", { at: day(2), knownAt: day(2) }).coveredRecipients).toEqual([]);
  });
});
