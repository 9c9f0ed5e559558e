// The permission rule: may this subject's data be processed for this purpose?
import { type AsOf, type Catalog, type Policy, type Purpose, type Recipient, definesPurpose, findPurpose, standingOf, type Standing } from "./catalog.js";
import { LedgerError } from "./errors.js";
import { type ConsentRecord, type SubjectState, type SubjectStatus, consentKey } from "./subject.js";
import type { Instant } from "./time.js";

export const CONSENT_STATUSES = ["GRANTED", "WITHDRAWN", "EXPIRED", "NOT_ASKED", "REQUIRED"] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];
/** Why a purpose is permitted (the first three) or not (the rest). */
export const DECISION_REASONS = [
  "GRANTED", "DEFAULT_OPT_OUT", "REQUIRED_FOR_SERVICE",
  "NOT_GRANTED", "WITHDRAWN", "EXPIRED", "NOT_IN_APPLICABLE_POLICY", "POLICY_NOT_ACCEPTED", "SUBJECT_SUSPENDED", "SUBJECT_LEFT", "SUBJECT_ERASED", "RECIPIENT_NOT_COVERED",
] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

/** What the rule needs to know of a subject; served by the projections (now) or by a fold (past). */
export interface SubjectView {
  status: SubjectStatus;
  /** Purposes a scoped suspension stopped while the subject stays ACTIVE. */
  suspendedPurposes: ReadonlySet<string>;
  /** When the subject came back after leaving: opt-in grants from before then no longer count. */
  returnedAt: Instant | null;
  acceptedVersion(policyId: string): number;
  consent(policyId: string, purposeId: string): ConsentRecord | undefined;
}

/** The view of a folded subject state or of a snapshot read from the read models. */
export const viewOf = (s: Pick<SubjectState, "status" | "suspendedPurposes" | "returnedAt" | "acceptances" | "consents">): SubjectView => ({
  status: s.status,
  suspendedPurposes: s.suspendedPurposes,
  returnedAt: s.returnedAt,
  acceptedVersion: (policyId) => s.acceptances.get(policyId)?.version ?? 0,
  consent: (policyId, purposeId) => s.consents.get(consentKey(policyId, purposeId)),
});

export interface Decision {
  policyId: string;
  purposeId: string;
  /** The purpose as the applicable version defines it, else as the latest version that does. */
  purpose: Purpose;
  permitted: boolean;
  status: ConsentStatus;
  reason: DecisionReason;
  policyVersion: number | null;
  since: Instant | null;
  expiresAt: Instant | null;
  eventId: string | null;
  /**
   * The recipients the subject's consent covers (APPI Arts. 27, 28): for a grant, those the purpose
   * listed in the version it was granted under; for a purpose permitted without a grant (opt-out,
   * required), those of the applicable version; none when the purpose is not permitted by choice.
   */
  coveredRecipients: Recipient[];
  /** The data categories the consent covers, found like the recipients: those the purpose listed where the grant was made. */
  coveredDataCategories: string[];
}

/** The subject's own choice, with expiry evaluated at read time. */
export function choiceStatus(rec: ConsentRecord | undefined, at: Instant): "GRANTED" | "WITHDRAWN" | "EXPIRED" | "NOT_ASKED" {
  if (!rec) return "NOT_ASKED";
  if (!rec.granted) return "WITHDRAWN";
  return rec.expiresAt !== null && at >= rec.expiresAt ? "EXPIRED" : "GRANTED";
}

function latestDefinition(policy: Policy, purposeId: string): Purpose | undefined {
  // Stryker disable next-line ArithmeticOperator: starting past the end only looks at missing versions (findPurpose of undefined is undefined) first
  for (let i = policy.versions.length - 1; i >= 0; i--) {
    const p = findPurpose(policy.versions[i]!, purposeId);
    if (p) return p;
  }
  return undefined;
}

/**
 * Evaluates one purpose under the policy that governs it, in the contract's order:
 * subject status, applicable version, purpose membership, then the purpose's mode.
 */
export function decideUnder(policy: Policy, standing: Standing, view: SubjectView, purposeId: string, asOf: AsOf): Decision {
  const applicable = findPurpose(standing.applicable, purposeId);
  const purpose = applicable ?? latestDefinition(policy, purposeId);
  if (!purpose) throw new LedgerError("UNKNOWN_PURPOSE", `purpose ${purposeId} is not defined by policy ${policy.id}`);
  const recorded = view.consent(policy.id, purposeId);
  // A subject who came back after leaving starts afresh: a grant from before the return is not carried over.
  const rec = recorded && recorded.granted && view.returnedAt !== null && recorded.occurredAt < view.returnedAt ? undefined : recorded;
  const choice = choiceStatus(rec, asOf.at);
  // Only a permitted purpose asks (an OPT_IN one is permitted only when GRANTED, an OPT_OUT one unless WITHDRAWN).
  const coveredBy = (): Purpose | undefined => {
    if (choice === "WITHDRAWN") return undefined;
    return rec?.granted ? findPurpose(policy.versions[rec.version - 1] ?? null, purposeId) : applicable;
  };
  const out = (permitted: boolean, reason: DecisionReason): Decision => ({
    policyId: policy.id,
    purposeId,
    purpose,
    permitted,
    status: purpose.mode === "REQUIRED" ? "REQUIRED" : choice,
    reason,
    policyVersion: standing.applicable?.number ?? null,
    since: rec?.occurredAt ?? null,
    expiresAt: rec?.granted ? rec.expiresAt : null,
    eventId: rec?.eventId ?? null,
    coveredRecipients: permitted ? (coveredBy()?.recipients ?? []) : [],
    coveredDataCategories: permitted ? (coveredBy()?.dataCategories ?? []) : [],
  });

  if (view.status === "ERASED") return out(false, "SUBJECT_ERASED");
  if (view.status === "LEFT" || view.status === "MERGED") return out(false, "SUBJECT_LEFT");
  const suspended = view.status === "SUSPENDED" || view.suspendedPurposes.has(purposeId);
  if (suspended && purpose.basis !== "LEGAL_OBLIGATION") return out(false, "SUBJECT_SUSPENDED");
  if (!standing.applicable) return out(false, "POLICY_NOT_ACCEPTED");
  if (!applicable) return out(false, "NOT_IN_APPLICABLE_POLICY");
  switch (purpose.mode) {
    case "REQUIRED":
      return out(true, "REQUIRED_FOR_SERVICE");
    case "OPT_IN":
      return choice === "GRANTED" ? out(true, "GRANTED") : out(false, choice === "NOT_ASKED" ? "NOT_GRANTED" : choice);
    case "OPT_OUT":
      if (choice === "WITHDRAWN") return out(false, "WITHDRAWN");
      return choice === "GRANTED" ? out(true, "GRANTED") : out(true, "DEFAULT_OPT_OUT");
  }
}

/** The policy that governs a purpose: the most specific one in the override chain that defines it. */
export function governingPolicy(catalog: Catalog, policyId: string, purposeId: string, knownAt: Instant): Policy {
  for (const p of catalog.chain(policyId)) {
    const known = catalog.knownAt(p.id, knownAt);
    if (known && definesPurpose(known, purposeId)) return known;
  }
  throw new LedgerError("UNKNOWN_PURPOSE", `purpose ${purposeId} is not defined by policy ${policyId}`);
}

/**
 * permission(subject, purpose, policy?, recipient?) as of an instant. Naming a recipient the
 * subject's consent does not cover makes a permitted purpose false with RECIPIENT_NOT_COVERED.
 */
export function decidePermission(catalog: Catalog, view: SubjectView, policyId: string, purposeId: string, asOf: AsOf, recipientId?: string | null): Decision {
  const policy = governingPolicy(catalog, policyId, purposeId, asOf.knownAt);
  const d = decideUnder(policy, standingOf(policy, view.acceptedVersion(policy.id), asOf), view, purposeId, asOf);
  return recipientId != null ? forRecipient(d, recipientId) : d;
}

/** A decision narrowed to one recipient. */
export function forRecipient(d: Decision, recipientId: string): Decision {
  if (!d.permitted || d.coveredRecipients.some((r) => r.id === recipientId)) return d;
  return { ...d, permitted: false, reason: "RECIPIENT_NOT_COVERED" };
}

/**
 * Every purpose a subject is asked about under a policy: the policy's own purposes first, then
 * those of the policies it overrides that it does not redefine.
 */
export function decideAll(catalog: Catalog, view: SubjectView, policyId: string, asOf: AsOf): Decision[] {
  const out: Decision[] = [];
  const seen = new Set<string>();
  for (const p of catalog.chain(policyId)) {
    const policy = catalog.knownAt(p.id, asOf.knownAt);
    if (!policy) continue;
    const standing = standingOf(policy, view.acceptedVersion(policy.id), asOf);
    const shown = standing.pending ?? standing.applicable ?? policy.versions.at(-1)!;
    const ids = new Set([...(standing.applicable?.purposes ?? []), ...shown.purposes].map((x) => x.id));
    // A purpose a more specific policy defines in any version is that policy's, not the base's.
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(decideUnder(policy, standing, view, id, asOf));
    }
    for (const v of policy.versions) for (const x of v.purposes) seen.add(x.id);
  }
  return out;
}
