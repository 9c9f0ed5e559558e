// recordConsent: a policy acceptance and per-purpose grants and withdrawals, decided as one call.
import { type Catalog, supersededAt, versionOf } from "./catalog.js";
import { MAX_FUTURE_SKEW_MS, checkExpectedVersion, checkId, checkList, checkText, requireActive } from "./checks.js";
import { LedgerError, badInput } from "./errors.js";
import type { DomainEvent, Evidence } from "./events.js";
import type { PolicyVersion } from "./policy-version.js";
import type { SubjectState } from "./subject.js";
import { DAY_MS, type Instant } from "./time.js";

export interface RecordConsentCommand {
  policyId: string | null;
  policyVersion: number;
  acceptPolicy: boolean;
  grant: readonly string[];
  withdraw: readonly string[];
  occurredAt: Instant;
  evidence: Evidence | null;
  expectedVersion: number | null;
}

const EVIDENCE_FIELDS = ["channel", "formId", "locale", "ipAddress", "userAgent", "signal"] as const;

function checkEvidence(e: Evidence | null): void {
  if (!e) return;
  for (const f of EVIDENCE_FIELDS) checkText(`evidence.${f}`, e[f], f === "userAgent" ? 1_024 : 256);
}

/** Settings that bound what a command may claim; the ledger passes them from the configuration. */
export interface RecordConsentBounds {
  /** No occurredAt before this instant, whatever the version (OCCURRED_AT_FLOOR). */
  occurredAtFloor?: Instant | null;
  /** The policy a call without policyId is about (DEFAULT_POLICY_ID), once published. */
  defaultPolicyId?: string | null;
}

/** recordConsent: a policy acceptance and per-purpose grants and withdrawals, as one call. */
export function decideRecordConsent(cmd: RecordConsentCommand, state: SubjectState, catalog: Catalog, now: Instant, bounds: RecordConsentBounds = {}): DomainEvent[] {
  checkList("grant", cmd.grant);
  checkList("withdraw", cmd.withdraw);
  for (const id of [...cmd.grant, ...cmd.withdraw]) checkId("purpose id", id);
  checkEvidence(cmd.evidence);
  if (!cmd.acceptPolicy && cmd.grant.length === 0 && cmd.withdraw.length === 0)
    throw badInput("nothing to record: accept the policy, grant or withdraw at least one purpose");
  const both = cmd.grant.filter((p) => cmd.withdraw.includes(p));
  if (both.length > 0) throw badInput("a purpose cannot be granted and withdrawn in one call", { purposeIds: both });
  if (new Set(cmd.grant).size !== cmd.grant.length || new Set(cmd.withdraw).size !== cmd.withdraw.length)
    throw badInput("a purpose is named twice");
  if (!Number.isInteger(cmd.policyVersion) || cmd.policyVersion < 1) throw badInput("policyVersion must be a positive integer");
  if (cmd.occurredAt > now + MAX_FUTURE_SKEW_MS) throw badInput("occurredAt lies more than 5 minutes in the future");

  const policyId = catalog.resolvePolicyId(cmd.policyId, bounds.defaultPolicyId ?? null);
  const policy = catalog.get(policyId)!;
  const version = versionOf(policy, cmd.policyVersion);
  if (!version) throw new LedgerError("UNKNOWN_POLICY_VERSION", `policy ${policyId} has no version ${cmd.policyVersion}`);
  checkOccurredAtPast(cmd.occurredAt, version, bounds.occurredAtFloor ?? null);
  const purposes = new Map(version.purposes.map((p) => [p.id, p]));
  const unknown = [...cmd.grant, ...cmd.withdraw].filter((id) => !purposes.has(id));
  if (unknown.length > 0)
    throw new LedgerError("UNKNOWN_PURPOSE", `not a purpose of ${policyId} version ${version.number}: ${unknown.join(", ")}`, {
      purposeIds: unknown,
    });

  // A subject who left comes back by accepting the policy again; nothing else reopens the account.
  const returning = state.status === "LEFT" && cmd.acceptPolicy;
  if (!returning) requireActive(state);
  // Coming back is recorded as it happens: the leaving it undoes was recorded at its own time, so a
  // return dated before it (or ahead of the clock) would reorder the subject's lifecycle.
  if (returning && cmd.occurredAt !== now) throw badInput("a subject who left comes back now: leave occurredAt out when accepting again", { field: "occurredAt" });
  checkExpectedVersion(state, cmd.expectedVersion);

  const required = cmd.withdraw.filter((id) => purposes.get(id)!.mode === "REQUIRED");
  if (required.length > 0)
    throw new LedgerError("REQUIRED_PURPOSE", `required purposes cannot be withdrawn (leaving the service is the way): ${required.join(", ")}`, {
      purposeIds: required,
    });
  const requiredGrants = cmd.grant.filter((id) => purposes.get(id)!.mode === "REQUIRED");
  if (requiredGrants.length > 0)
    throw badInput(`required purposes are not granted one by one: accepting the policy gives them: ${requiredGrants.join(", ")}`, { purposeIds: requiredGrants });
  if (cmd.acceptPolicy) {
    const later = supersededAt(policy, version.number, cmd.occurredAt);
    if (later)
      throw new LedgerError("POLICY_VERSION_SUPERSEDED", `version ${version.number} of ${policyId} was superseded by version ${later.number} at that time: accept the current version`, {
        currentVersion: later.number,
      });
  }
  const accepted = state.acceptances.get(policyId)?.version ?? 0;
  if (cmd.grant.length > 0 && version.requiresConsent && !cmd.acceptPolicy && accepted < version.number)
    throw new LedgerError("POLICY_NOT_ACCEPTED", `version ${version.number} of ${policyId} requires consent: accept it first or in this call`);

  const base = { policyId, version: version.number };
  const evidence = cmd.evidence ? { evidence: { plain: cmd.evidence } } : {};
  const events: DomainEvent[] = [];
  if (returning) events.push({ type: "SubjectReturned", occurredAt: cmd.occurredAt, data: {} });
  // Accepting the version already accepted again records nothing (a banner may send it every time).
  if (cmd.acceptPolicy && (returning || accepted < version.number))
    events.push({ type: "PolicyAccepted", occurredAt: cmd.occurredAt, data: { ...base, ...evidence } });
  for (const purposeId of cmd.grant) {
    const ttl = purposes.get(purposeId)!.consentTtlDays;
    events.push({
      type: "ConsentGranted",
      occurredAt: cmd.occurredAt,
      data: { ...base, purposeId, expiresAt: ttl === null ? null : cmd.occurredAt + ttl * DAY_MS, ...evidence },
    });
  }
  for (const purposeId of cmd.withdraw)
    events.push({ type: "ConsentWithdrawn", occurredAt: cmd.occurredAt, data: { ...base, purposeId, ...evidence } });
  return events;
}

/**
 * A choice under a version cannot predate that version: nobody was shown it yet. The bound is the
 * earlier of its effectiveAt and its publication, so an import of choices made under a version that
 * was in force long before it was published into this ledger keeps its real dates, and a version
 * accepted ahead of taking effect may be dated from its publication. A configured floor bounds
 * every back-dated value on top (a typo such as year 0001 is refused either way).
 */
function checkOccurredAtPast(occurredAt: Instant, version: PolicyVersion, floor: Instant | null): void {
  const shown = Math.min(version.effectiveAt, version.publishedAt);
  if (occurredAt < shown)
    throw badInput(`occurredAt lies before version ${version.number} of ${version.policyId} was published or took effect (${new Date(shown).toISOString()})`, {
      field: "occurredAt",
    });
  if (floor !== null && occurredAt < floor)
    throw badInput(`occurredAt lies before the earliest instant this ledger accepts (${new Date(floor).toISOString()})`, { field: "occurredAt" });
}
