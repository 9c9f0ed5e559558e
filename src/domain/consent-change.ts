// Which changes of a policy need the people's consent (APPI Arts. 17(2), 18(1), 27; the seed policy §6):
// a version that loosens how a purpose is consented to cannot be published as one that needs no consent.
import type { Policy, PolicyVersion, Purpose } from "./catalog.js";
import { LedgerError } from "./errors.js";
import type { Instant } from "./time.js";

export const CONSENT_CHANGES = [
  "OPT_IN_TO_OPT_OUT",
  "OPT_IN_TO_REQUIRED",
  "OPT_OUT_TO_REQUIRED",
  "ADDED_OPT_OUT",
  "ADDED_REQUIRED",
  "THIRD_PARTY_RECIPIENT_ADDED",
] as const;
export type ConsentChange = (typeof CONSENT_CHANGES)[number];

export interface PurposeChange {
  purposeId: string;
  change: ConsentChange;
}

/**
 * The version in effect just before `effectiveAt` (the one a new version takes over from): the
 * highest-numbered version effective at or before that instant; none before the first.
 */
export function versionInEffectBefore(policy: Policy | undefined, effectiveAt: Instant): PolicyVersion | null {
  let found: PolicyVersion | null = null;
  for (const v of policy?.versions ?? []) if (v.effectiveAt <= effectiveAt) found = v;
  return found;
}

/**
 * The changes from `before` to `purposes` that need consent: a purpose moved from OPT_IN to OPT_OUT
 * or REQUIRED, or from OPT_OUT to REQUIRED; a purpose added that is not OPT_IN; a THIRD_PARTY
 * recipient added to a purpose that is not OPT_IN.
 */
export function consentRequiredChanges(before: PolicyVersion | null, purposes: readonly Purpose[]): PurposeChange[] {
  const out: PurposeChange[] = [];
  for (const p of purposes) {
    const was = before?.purposes.find((x) => x.id === p.id);
    if (p.mode === "OPT_IN") continue;
    if (!was) out.push({ purposeId: p.id, change: p.mode === "REQUIRED" ? "ADDED_REQUIRED" : "ADDED_OPT_OUT" });
    else if (was.mode === "OPT_IN") out.push({ purposeId: p.id, change: p.mode === "REQUIRED" ? "OPT_IN_TO_REQUIRED" : "OPT_IN_TO_OPT_OUT" });
    else if (was.mode === "OPT_OUT" && p.mode === "REQUIRED") out.push({ purposeId: p.id, change: "OPT_OUT_TO_REQUIRED" });
    const known = new Set((was?.recipients ?? []).filter((r) => r.kind === "THIRD_PARTY").map((r) => r.id));
    if (p.recipients.some((r) => r.kind === "THIRD_PARTY" && !known.has(r.id))) out.push({ purposeId: p.id, change: "THIRD_PARTY_RECIPIENT_ADDED" });
  }
  return out;
}

/** CONSENT_REQUIRED_CHANGE when a version published as needing no consent makes a change that does. */
export function checkConsentRequiredChange(policy: Policy | undefined, spec: { requiresConsent: boolean; effectiveAt: Instant; purposes: readonly Purpose[] }): void {
  if (spec.requiresConsent) return;
  const changes = consentRequiredChanges(versionInEffectBefore(policy, spec.effectiveAt), spec.purposes);
  if (changes.length > 0)
    throw new LedgerError(
      "CONSENT_REQUIRED_CHANGE",
      `this version changes how consent is given (${changes.map((c) => `${c.purposeId}: ${c.change}`).join(", ")}): publish it with requiresConsent: true`,
      { changes },
    );
}
