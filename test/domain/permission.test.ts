// The permission rule, row by row, on hand-built catalogues and folded histories.
import { describe, expect, it } from "vitest";
import { Catalog, standingOf } from "../../src/domain/catalog.js";
import { type DecisionReason, DECISION_REASONS, decideAll, decidePermission, decideUnder } from "../../src/domain/permission.js";
import type { Instant } from "../../src/domain/time.js";
import {
  type Fact,
  P,
  accepted,
  baseCatalog,
  day,
  granted,
  lifecycle,
  purpose,
  subjectOf,
  version,
  viewOf,
  withdrawn,
} from "./fixtures.js";

interface Row {
  rule: string;
  facts: Fact[];
  purposeId: string;
  at: Instant;
  permitted: boolean;
  reason: DecisionReason;
  status: string;
  policyVersion: number | null;
  recipientId?: string;
}

const acceptedV1 = accepted("base", 1, day(1));

// Default read instant: day 20, when v2 (no consent needed) applies to v1 acceptors.
const rows: Row[] = [
  { rule: "an opt-in purpose is permitted while granted", facts: [acceptedV1, granted("base", 1, "location", day(15), { ttlDays: 30 })], purposeId: "location", at: day(20), permitted: true, reason: "GRANTED", status: "GRANTED", policyVersion: 2 },
  { rule: "an opt-out purpose is permitted by default", facts: [acceptedV1], purposeId: "analytics", at: day(20), permitted: true, reason: "DEFAULT_OPT_OUT", status: "NOT_ASKED", policyVersion: 2 },
  { rule: "an opt-out purpose explicitly granted is permitted as granted", facts: [acceptedV1, granted("base", 1, "analytics", day(2))], purposeId: "analytics", at: day(20), permitted: true, reason: "GRANTED", status: "GRANTED", policyVersion: 2 },
  { rule: "a required purpose is permitted for the service", facts: [acceptedV1], purposeId: "service", at: day(20), permitted: true, reason: "REQUIRED_FOR_SERVICE", status: "REQUIRED", policyVersion: 2 },
  { rule: "an opt-in purpose never asked is not permitted", facts: [acceptedV1], purposeId: "location", at: day(20), permitted: false, reason: "NOT_GRANTED", status: "NOT_ASKED", policyVersion: 2 },
  { rule: "an opt-in purpose granted then withdrawn is not permitted", facts: [acceptedV1, granted("base", 1, "location", day(2), { ttlDays: 30 }), withdrawn("base", 1, "location", day(3))], purposeId: "location", at: day(20), permitted: false, reason: "WITHDRAWN", status: "WITHDRAWN", policyVersion: 2 },
  { rule: "an opt-out purpose withdrawn is not permitted", facts: [acceptedV1, withdrawn("base", 1, "analytics", day(2))], purposeId: "analytics", at: day(20), permitted: false, reason: "WITHDRAWN", status: "WITHDRAWN", policyVersion: 2 },
  { rule: "an opt-in grant past its expiry is not permitted", facts: [acceptedV1, granted("base", 1, "location", day(2), { ttlDays: 30 })], purposeId: "location", at: day(32), permitted: false, reason: "EXPIRED", status: "EXPIRED", policyVersion: 2 },
  { rule: "an opt-in grant one millisecond before its expiry is still permitted", facts: [acceptedV1, granted("base", 1, "location", day(2), { ttlDays: 30 })], purposeId: "location", at: day(32) - 1, permitted: true, reason: "GRANTED", status: "GRANTED", policyVersion: 2 },
  { rule: "a purpose the applicable version dropped is not permitted, whatever was granted", facts: [acceptedV1, granted("base", 1, "ads", day(2))], purposeId: "ads", at: day(20), permitted: false, reason: "NOT_IN_APPLICABLE_POLICY", status: "GRANTED", policyVersion: 2 },
  { rule: "the same grant counts while the version that defines it still applies", facts: [acceptedV1, granted("base", 1, "ads", day(2))], purposeId: "ads", at: day(5), permitted: true, reason: "GRANTED", status: "GRANTED", policyVersion: 1 },
  { rule: "a subject who accepted no version gets nothing, not even required purposes", facts: [], purposeId: "service", at: day(20), permitted: false, reason: "POLICY_NOT_ACCEPTED", status: "REQUIRED", policyVersion: null },
  { rule: "a grant without an acceptance of a consent-requiring version is not permitted", facts: [granted("base", 1, "location", day(15))], purposeId: "location", at: day(20), permitted: false, reason: "POLICY_NOT_ACCEPTED", status: "GRANTED", policyVersion: null },
  { rule: "a suspended subject's required purpose is not permitted", facts: [acceptedV1, lifecycle("ProcessingSuspended", day(2))], purposeId: "service", at: day(20), permitted: false, reason: "SUBJECT_SUSPENDED", status: "REQUIRED", policyVersion: 2 },
  { rule: "a suspended subject's grant is not permitted", facts: [acceptedV1, granted("base", 1, "location", day(15)), lifecycle("ProcessingSuspended", day(16))], purposeId: "location", at: day(20), permitted: false, reason: "SUBJECT_SUSPENDED", status: "GRANTED", policyVersion: 2 },
  { rule: "suspension does not stop a purpose whose basis is a legal obligation", facts: [acceptedV1, lifecycle("ProcessingSuspended", day(2))], purposeId: "notices", at: day(20), permitted: true, reason: "REQUIRED_FOR_SERVICE", status: "REQUIRED", policyVersion: 2 },
  { rule: "the legal-obligation exception falls through to the policy rule", facts: [lifecycle("ProcessingSuspended", day(2))], purposeId: "notices", at: day(20), permitted: false, reason: "POLICY_NOT_ACCEPTED", status: "REQUIRED", policyVersion: null },
  { rule: "suspension comes before the missing acceptance", facts: [lifecycle("ProcessingSuspended", day(2))], purposeId: "service", at: day(20), permitted: false, reason: "SUBJECT_SUSPENDED", status: "REQUIRED", policyVersion: null },
  { rule: "a resumed subject is permitted again", facts: [acceptedV1, lifecycle("ProcessingSuspended", day(2)), lifecycle("ProcessingResumed", day(3))], purposeId: "service", at: day(20), permitted: true, reason: "REQUIRED_FOR_SERVICE", status: "REQUIRED", policyVersion: 2 },
  { rule: "a subject who left is permitted nothing, legal obligation included", facts: [acceptedV1, lifecycle("SubjectLeft", day(2))], purposeId: "notices", at: day(20), permitted: false, reason: "SUBJECT_LEFT", status: "REQUIRED", policyVersion: 2 },
  { rule: "leaving comes before suspension", facts: [acceptedV1, lifecycle("ProcessingSuspended", day(2)), lifecycle("SubjectLeft", day(3))], purposeId: "service", at: day(20), permitted: false, reason: "SUBJECT_LEFT", status: "REQUIRED", policyVersion: 2 },
  { rule: "erasure comes before leaving", facts: [acceptedV1, lifecycle("SubjectLeft", day(2)), lifecycle("SubjectErased", day(3))], purposeId: "notices", at: day(20), permitted: false, reason: "SUBJECT_ERASED", status: "REQUIRED", policyVersion: 2 },
  { rule: "a recipient the grant does not cover is not permitted", facts: [acceptedV1, granted("base", 1, "location", day(15))], purposeId: "location", recipientId: "partner-x", at: day(20), permitted: false, reason: "RECIPIENT_NOT_COVERED", status: "GRANTED", policyVersion: 2 },
  { rule: "a scoped suspension stops only the purposes it names", facts: [acceptedV1, granted("base", 1, "location", day(15)), { ...lifecycle("ProcessingSuspended", day(16)), data: { purposeIds: ["location"] } } as Fact], purposeId: "location", at: day(20), permitted: false, reason: "SUBJECT_SUSPENDED", status: "GRANTED", policyVersion: 2 },
  { rule: "a scoped suspension leaves the other purposes permitted", facts: [acceptedV1, { ...lifecycle("ProcessingSuspended", day(16)), data: { purposeIds: ["location"] } } as Fact], purposeId: "service", at: day(20), permitted: true, reason: "REQUIRED_FOR_SERVICE", status: "REQUIRED", policyVersion: 2 },
  { rule: "a grant from before leaving does not come back with the subject", facts: [acceptedV1, granted("base", 1, "location", day(15)), lifecycle("SubjectLeft", day(16)), lifecycle("SubjectReturned", day(17)), accepted("base", 2, day(17))], purposeId: "location", at: day(20), permitted: false, reason: "NOT_GRANTED", status: "NOT_ASKED", policyVersion: 2 },
  { rule: "an erased subject is permitted nothing, even what was granted", facts: [acceptedV1, granted("base", 1, "location", day(15)), lifecycle("SubjectErased", day(16))], purposeId: "location", at: day(20), permitted: false, reason: "SUBJECT_ERASED", status: "GRANTED", policyVersion: 2 },
];

describe("decidePermission: the permission rule", () => {
  const catalog = baseCatalog();

  it.each(rows)("$rule", (row) => {
    const asOf = { at: row.at, knownAt: row.at };
    const subject = subjectOf(row.facts, asOf);
    const d = decidePermission(catalog, viewOf(subject), "base", row.purposeId, asOf, row.recipientId);
    expect(d).toMatchObject({
      policyId: "base",
      purposeId: row.purposeId,
      permitted: row.permitted,
      reason: row.reason,
      status: row.status,
      policyVersion: row.policyVersion,
    });
  });

  it("covers every decision reason of the contract", () => {
    expect(new Set(rows.map((r) => r.reason))).toEqual(new Set(DECISION_REASONS));
  });

  it("reports since, expiresAt and the event behind a grant", () => {
    const asOf = { at: day(20), knownAt: day(20) };
    const s = subjectOf([acceptedV1, granted("base", 1, "location", day(15), { ttlDays: 30 })]);
    const d = decidePermission(catalog, viewOf(s), "base", "location", asOf);
    expect(d).toMatchObject({ since: day(15), expiresAt: day(45), eventId: "s-2" });
  });

  it("reports no expiry for a withdrawal", () => {
    const s = subjectOf([acceptedV1, granted("base", 1, "location", day(2), { ttlDays: 30 }), withdrawn("base", 1, "location", day(3))]);
    const d = decidePermission(catalog, viewOf(s), "base", "location", { at: day(20), knownAt: day(20) });
    expect(d).toMatchObject({ since: day(3), expiresAt: null });
  });

  it("refuses a purpose no version of the policy defines", () => {
    const s = subjectOf([acceptedV1]);
    expect(() => decidePermission(catalog, viewOf(s), "base", "telepathy", { at: day(20), knownAt: day(20) })).toThrow(
      expect.objectContaining({ code: "UNKNOWN_PURPOSE" }),
    );
  });

  it("describes a dropped purpose by the latest version that defined it", () => {
    const s = subjectOf([acceptedV1]);
    const d = decidePermission(catalog, viewOf(s), "base", "ads", { at: day(20), knownAt: day(20) });
    expect(d.purpose).toEqual(P.ads);
  });
});

describe("decideUnder", () => {
  it("evaluates a purpose against the standing it is given", () => {
    const policy = baseCatalog().get("base")!;
    const s = subjectOf([granted("base", 1, "location", day(2))]);
    const asOf = { at: day(5), knownAt: day(5) };
    expect(decideUnder(policy, standingOf(policy, 0, asOf), viewOf(s), "location", asOf)).toMatchObject({ permitted: false, reason: "POLICY_NOT_ACCEPTED" });
    expect(decideUnder(policy, standingOf(policy, 1, asOf), viewOf(s), "location", asOf)).toMatchObject({ permitted: true, reason: "GRANTED", policyVersion: 1 });
  });
});

describe("a policy that overrides another", () => {
  const regionalLocation = purpose("location", "OPT_IN", "CONSENT", 7);
  const catalog = Catalog.of([
    version("base", 1, { requiresConsent: false, effectiveAt: day(0), purposes: [P.service, P.analytics, P.location] }),
    version("regional", 1, { requiresConsent: true, effectiveAt: day(0), overrides: "base", purposes: [regionalLocation, purpose("geo", "OPT_IN")] }),
  ]);
  const asOf = { at: day(20), knownAt: day(20) };
  const ask = (facts: Fact[], purposeId: string) => decidePermission(catalog, viewOf(subjectOf(facts)), "regional", purposeId, asOf);
  const acceptedBase = accepted("base", 1, day(1));
  const baseGrant = granted("base", 1, "location", day(2));

  it("governs the purposes it defines, with the subject's choices under it", () => {
    expect(ask([acceptedBase, baseGrant], "location")).toMatchObject({ policyId: "regional", permitted: false, reason: "POLICY_NOT_ACCEPTED" });
    expect(ask([acceptedBase, baseGrant, accepted("regional", 1, day(3))], "location")).toMatchObject({ policyId: "regional", permitted: false, reason: "NOT_GRANTED" });
    const d = ask([acceptedBase, accepted("regional", 1, day(3)), granted("regional", 1, "location", day(15), { ttlDays: 7 })], "location");
    expect(d).toMatchObject({ policyId: "regional", permitted: true, reason: "GRANTED", expiresAt: day(22) });
    expect(d.purpose).toEqual(regionalLocation);
  });

  it("leaves the other purposes to the overridden policy and the subject's choices under it", () => {
    expect(ask([acceptedBase], "analytics")).toMatchObject({ policyId: "base", permitted: true, reason: "DEFAULT_OPT_OUT", policyVersion: 1 });
    expect(ask([acceptedBase, withdrawn("base", 1, "analytics", day(2))], "analytics")).toMatchObject({ policyId: "base", permitted: false, reason: "WITHDRAWN" });
    // Accepting only the override does not stand in for the base policy's acceptance.
    expect(ask([accepted("regional", 1, day(3))], "service")).toMatchObject({ policyId: "base", permitted: true, reason: "REQUIRED_FOR_SERVICE" });
  });

  it("lists its own purposes first and the base's others once", () => {
    const s = subjectOf([acceptedBase, accepted("regional", 1, day(3))]);
    const all = decideAll(catalog, viewOf(s), "regional", asOf);
    expect(all.map((d) => [d.policyId, d.purposeId])).toEqual([
      ["regional", "location"],
      ["regional", "geo"],
      ["base", "service"],
      ["base", "analytics"],
    ]);
  });
});

describe("time: valid time (at) and transaction time (knownAt)", () => {
  const catalog = baseCatalog();
  // Withdrawn on day 3; an import recorded on day 4 says the person granted on day 2.
  const facts = [
    accepted("base", 1, day(1)),
    withdrawn("base", 1, "location", day(3)),
    granted("base", 1, "location", day(2), { recordedAt: day(4) }),
  ];
  const decide = (at: Instant, knownAt: Instant) =>
    decidePermission(catalog, viewOf(subjectOf(facts, { at, knownAt })), "base", "location", { at, knownAt });

  it("a back-dated grant does not override a later withdrawal", () => {
    expect(decide(day(5), day(5))).toMatchObject({ permitted: false, reason: "WITHDRAWN", since: day(3) });
  });

  it("between the grant and the withdrawal, the grant holds once it is known", () => {
    expect(decide(day(2.5), day(5))).toMatchObject({ permitted: true, reason: "GRANTED", since: day(2) });
  });

  it("before the import was recorded, the ledger did not know of the grant", () => {
    expect(decide(day(2.5), day(3.5))).toMatchObject({ permitted: false, reason: "NOT_GRANTED" });
  });

  it("before the acceptance, nothing was accepted", () => {
    expect(decide(day(0.5), day(5))).toMatchObject({ permitted: false, reason: "POLICY_NOT_ACCEPTED" });
  });

  it("a version published after knownAt does not apply", () => {
    const s = subjectOf([accepted("base", 1, day(1)), granted("base", 1, "ads", day(2))]);
    // At day 20, v2 (which drops ads) is in effect, but on day 8 nobody knew of it yet.
    expect(decidePermission(catalog, viewOf(s), "base", "ads", { at: day(20), knownAt: day(8) })).toMatchObject({ permitted: true, policyVersion: 1 });
    expect(decidePermission(catalog, viewOf(s), "base", "ads", { at: day(20), knownAt: day(20) })).toMatchObject({ permitted: false, policyVersion: 2 });
  });
});
