// Hand-built catalogues and histories for the pure domain tests: no database involved.
import { Catalog, type ConsentMode, type LegalBasis, type PolicyVersion, type Purpose } from "../../src/domain/catalog.js";
import type { PublishCommand, RecordConsentCommand } from "../../src/domain/decide.js";
import type { Actor, DomainEvent, LedgerEvent } from "../../src/domain/events.js";
import { type SubjectState, foldSubject } from "../../src/domain/subject.js";
import { DAY_MS, type Instant } from "../../src/domain/time.js";

export const T0: Instant = Date.parse("2024-01-01T00:00:00.000Z");
export const day = (n: number): Instant => T0 + n * DAY_MS;

export function purpose(id: string, mode: ConsentMode, basis: LegalBasis = "CONSENT", consentTtlDays: number | null = null): Purpose {
  return { id, title: id, description: null, mode, basis, dataCategories: ["profile"], recipients: [], consentTtlDays };
}

export function version(
  policyId: string,
  number: number,
  opts: { requiresConsent: boolean; effectiveAt: Instant; publishedAt?: Instant; purposes: Purpose[]; overrides?: string | null },
): PolicyVersion {
  return {
    policyId,
    number,
    title: `${policyId} v${number}`,
    overrides: opts.overrides ?? null,
    effectiveAt: opts.effectiveAt,
    requiresConsent: opts.requiresConsent,
    documentUrl: null,
    digest: String(number).repeat(64).slice(0, 64),
    changeSummary: null,
    purposes: opts.purposes,
    publishedAt: opts.publishedAt ?? opts.effectiveAt,
  };
}

/** The purposes of the "base" policy used across the domain tests. */
export const P = {
  service: purpose("service", "REQUIRED", "CONTRACT"),
  notices: purpose("notices", "REQUIRED", "LEGAL_OBLIGATION"),
  analytics: purpose("analytics", "OPT_OUT", "LEGITIMATE_INTEREST"),
  location: purpose("location", "OPT_IN", "CONSENT", 30),
  ads: purpose("ads", "OPT_IN", "CONSENT"),
};

/** base v1 requires consent (effective day 0); v2 drops "ads" and does not (effective day 10). */
export const baseCatalog = (): Catalog =>
  Catalog.of([
    version("base", 1, { requiresConsent: true, effectiveAt: day(0), publishedAt: day(-1), purposes: Object.values(P) }),
    version("base", 2, {
      requiresConsent: false,
      effectiveAt: day(10),
      publishedAt: day(9),
      purposes: [P.service, P.notices, P.analytics, P.location],
    }),
  ]);

/** A fact in a subject's history; recordedAt defaults to occurredAt (recorded as it happened). */
export type Fact = DomainEvent & { recordedAt?: Instant };

const SUBJECT_ACTOR: Actor = { kind: "SUBJECT", id: "s" };

export const accepted = (policyId: string, v: number, at: Instant, recordedAt?: Instant): Fact => ({
  type: "PolicyAccepted",
  occurredAt: at,
  data: { policyId, version: v },
  ...(recordedAt !== undefined ? { recordedAt } : {}),
});
export const granted = (policyId: string, v: number, purposeId: string, at: Instant, opts: { ttlDays?: number; recordedAt?: Instant } = {}): Fact => ({
  type: "ConsentGranted",
  occurredAt: at,
  data: { policyId, version: v, purposeId, expiresAt: opts.ttlDays === undefined ? null : at + opts.ttlDays * DAY_MS },
  ...(opts.recordedAt !== undefined ? { recordedAt: opts.recordedAt } : {}),
});
export const withdrawn = (policyId: string, v: number, purposeId: string, at: Instant, recordedAt?: Instant): Fact => ({
  type: "ConsentWithdrawn",
  occurredAt: at,
  data: { policyId, version: v, purposeId },
  ...(recordedAt !== undefined ? { recordedAt } : {}),
});
export const lifecycle = (type: "ProcessingSuspended" | "ProcessingResumed" | "SubjectLeft" | "SubjectReturned" | "SubjectMerged" | "SubjectErased", at: Instant): Fact =>
  ({ type, occurredAt: at, data: {} }) as Fact;

/** Gives facts the places a log would: positions and stream versions in the order given. */
export function history(subjectId: string, facts: readonly Fact[]): LedgerEvent[] {
  return facts.map(({ recordedAt, ...f }, i) => ({
    ...(f as DomainEvent),
    id: `${subjectId}-${i + 1}`,
    position: i + 1,
    streamId: `subject:${subjectId}`,
    streamVersion: i + 1,
    schemaVersion: 1,
    subjectId,
    recordedAt: recordedAt ?? f.occurredAt,
    actor: SUBJECT_ACTOR,
    prevHash: "0".repeat(64),
    hash: "0".repeat(64),
  })) as LedgerEvent[];
}

export const subjectOf = (facts: readonly Fact[], asOf?: { at: Instant; knownAt: Instant }): SubjectState =>
  foldSubject("s", history("s", facts), asOf);

export { viewOf } from "../../src/domain/permission.js";

/** A recordConsent command on "base" v1 at day 20 that changes nothing until `over` says what. */
export const recordCommand = (over: Partial<RecordConsentCommand> = {}): RecordConsentCommand => ({
  policyId: "base",
  policyVersion: 1,
  acceptPolicy: false,
  grant: [],
  withdraw: [],
  occurredAt: day(20),
  evidence: null,
  expectedVersion: null,
  ...over,
});

/** A publication of a "base" version effective at day 30 with the service purpose only. */
export const publishCommand = (over: Partial<PublishCommand> = {}): PublishCommand => ({
  policyId: "base",
  title: "Base",
  overrides: null,
  effectiveAt: day(30),
  requiresConsent: true,
  documentUrl: null,
  digest: "0123456789abcdef".repeat(4),
  changeSummary: null,
  purposes: [P.service],
  ...over,
});
