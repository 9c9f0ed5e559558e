// The facts the ledger records: one event type per fact, with the data each carries.
import type { PolicyVersionSpec, Recipient } from "./policy-version.js";
import type { Instant } from "./time.js";

export const ACTOR_KINDS = ["SUBJECT", "SERVICE", "OFFICER", "SYSTEM"] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];
export interface Actor {
  kind: ActorKind;
  id: string;
}

/** What a person's client told us when they acted; personal, so sealed at rest. */
export interface Evidence {
  channel?: string | null;
  formId?: string | null;
  locale?: string | null;
  ipAddress?: string | null;
  userAgent?: string | null;
  /** A browser signal the choice was made on (e.g. "GPC", Global Privacy Control), not a click. */
  signal?: string | null;
}

/**
 * Personal data inside an event: plaintext in the domain, sealed (encrypted with the subject's key)
 * before it is appended, and `{ erased: true }` once the key is destroyed.
 */
export type Personal<T> = { plain: T } | { sealed: string } | { erased: true };

export const DATA_REQUEST_KINDS = ["DISCLOSURE", "CORRECTION", "DELETION", "SUSPENSION"] as const;
export type DataRequestKind = (typeof DATA_REQUEST_KINDS)[number];

export const TRANSFER_DIRECTIONS = ["PROVIDED", "RECEIVED"] as const;
export type TransferDirection = (typeof TRANSFER_DIRECTIONS)[number];
/** The grounds for a transfer: consent, or one of the exceptions of the seed policy's §5 (APPI Art. 27). */
export const TRANSFER_BASES = ["CONSENT", "OUTSOURCING", "BUSINESS_SUCCESSION", "JOINT_USE", "LAW", "VITAL_INTEREST", "PUBLIC_HEALTH", "GOVERNMENT"] as const;
export type TransferBasis = (typeof TRANSFER_BASES)[number];

export interface EventDataByType {
  PolicyVersionPublished: PolicyVersionSpec;
  /** `mergedFrom`: carried over from a subject merged into this one (its evidence stays with that subject). */
  PolicyAccepted: { policyId: string; version: number; evidence?: Personal<Evidence>; mergedFrom?: string };
  ConsentGranted: {
    policyId: string;
    version: number;
    purposeId: string;
    expiresAt: Instant | null;
    evidence?: Personal<Evidence>;
    mergedFrom?: string;
  };
  ConsentWithdrawn: { policyId: string; version: number; purposeId: string; evidence?: Personal<Evidence>; mergedFrom?: string };
  /** Without purposeIds: every purpose (the subject becomes SUSPENDED); with them: only those, the subject stays ACTIVE. */
  ProcessingSuspended: { reason?: Personal<string>; dataRequestId?: string; purposeIds?: string[] };
  ProcessingResumed: Record<string, never>;
  SubjectLeft: Record<string, never>;
  /** A subject who had left comes back by accepting the policy again; earlier opt-in grants stay behind. */
  SubjectReturned: Record<string, never>;
  SubjectErased: { reason?: Personal<string>; dataRequestId?: string };
  /** This subject's identity was merged into another; its reads answer for that one from now on. */
  SubjectMerged: { into: string };
  /** A grant reached its expiresAt: recorded by the ledger itself at that instant, so subscribers hear of it. */
  ConsentExpired: { policyId: string; purposeId: string; grantEventId: string };
  /** A published version came into effect (a system event on the policy's stream, at effectiveAt). */
  PolicyVersionEffective: { policyId: string; version: number };
  /** A provision to or receipt from a third party (APPI Arts. 29, 30), kept for `retainUntil`. */
  ThirdPartyTransferRecorded: {
    transferId: string;
    direction: TransferDirection;
    counterparty: Recipient;
    purposeId: string | null;
    dataCategories: string[];
    basis: TransferBasis;
    retainUntil: Instant;
    note?: Personal<string>;
    /** For a receipt: who provided the data and how they obtained it (APPI Art. 30(1)); the provider's, so kept through erasure. */
    provider?: Provider;
  };
  DataRequestOpened: { requestId: string; kind: DataRequestKind; dueAt: Instant; note?: Personal<string>; purposeIds?: string[] };
  /** `label` is the kind of check (e.g. "document"), not personal, so it outlives erasure; `method` is the sealed detail. */
  DataRequestIdentityVerified: { requestId: string; method: Personal<string>; label?: string };
  /** `officerNote` is the officer's own record and is kept through erasure; `note` (sealed) is from older records. */
  DataRequestClosed: { requestId: string; fulfilled: boolean; note?: Personal<string>; officerNote?: string };
  DataRequestExtended: { requestId: string; days: number; dueAt: Instant; reason: string };
  /** Someone read the subject's personal evidence (an export, or sealed members opened for another): who is the event's actor. */
  PersonalDataAccessed: { read: string; reason?: string };
  /** A notice (a policy version) was shown to the subject; changes no consent. */
  NoticeShown: { policyId: string; version: number; channel: string; locale: string; noticeId?: string };
  /** A policy version's change was announced (the seed policy §6), on the policy's stream. */
  PolicyAnnounced: { policyId: string; version: number; method: string; at: Instant };
}

/** The provider of data received from a third party (APPI Art. 30(1)). */
export interface Provider {
  name: string;
  address: string;
  representative: string | null;
  /** How the provider obtained the data. */
  acquisition: string;
}

export type EventType = keyof EventDataByType;

/** Every event type, in the order readers list them, and whether it changes a subject's consent (what consentChanged may report). */
const CHANGES_CONSENT: { readonly [K in EventType]: boolean } = {
  PolicyVersionPublished: false,
  PolicyAccepted: true,
  ConsentGranted: true,
  ConsentWithdrawn: true,
  ProcessingSuspended: true,
  ProcessingResumed: true,
  SubjectLeft: true,
  SubjectReturned: true,
  SubjectErased: true,
  SubjectMerged: true,
  ConsentExpired: true,
  PolicyVersionEffective: false,
  ThirdPartyTransferRecorded: false,
  DataRequestOpened: false,
  DataRequestIdentityVerified: false,
  DataRequestClosed: false,
  DataRequestExtended: false,
  PersonalDataAccessed: false,
  NoticeShown: false,
  PolicyAnnounced: false,
};

export const EVENT_TYPES: readonly EventType[] = Object.keys(CHANGES_CONSENT) as EventType[];

/** EVENT_TYPES is whole (readers rely on it): CHANGES_CONSENT fails to compile when an event type is missing. */
export const EVENT_TYPES_COMPLETE: Exclude<EventType, (typeof EVENT_TYPES)[number]> extends never ? true : never = true;

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
export const isEventType = (type: string): type is EventType => KNOWN_EVENT_TYPES.has(type);

/** A fact decided by the domain, before the store gives it a place in the log. */
export type DomainEvent = {
  [K in EventType]: { type: K; data: EventDataByType[K]; occurredAt: Instant };
}[EventType];

/** A fact as the log holds it. */
export type LedgerEvent = DomainEvent & {
  id: string;
  position: number;
  streamId: string;
  streamVersion: number;
  schemaVersion: number;
  subjectId: string | null;
  recordedAt: Instant;
  actor: Actor;
  prevHash: string;
  hash: string;
};

export const subjectStream = (subjectId: string) => `subject:${subjectId}`;
export const policyStream = (policyId: string) => `policy:${policyId}`;

/** Event types that change a subject's consent, i.e. that consentChanged may report. */
export const CONSENT_AFFECTING: ReadonlySet<EventType> = new Set(EVENT_TYPES.filter((t) => CHANGES_CONSENT[t]));
