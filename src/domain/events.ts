// The facts the ledger records: one event type per fact, with the data each carries.
import type { PolicyVersionSpec } from "./catalog.js";
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
}

/**
 * Personal data inside an event: plaintext in the domain, sealed (encrypted with the subject's key)
 * before it is appended, and `{ erased: true }` once the key is destroyed.
 */
export type Personal<T> = { plain: T } | { sealed: string } | { erased: true };

export const DATA_REQUEST_KINDS = ["DISCLOSURE", "CORRECTION", "DELETION", "SUSPENSION"] as const;
export type DataRequestKind = (typeof DATA_REQUEST_KINDS)[number];

export interface EventDataByType {
  PolicyVersionPublished: PolicyVersionSpec;
  PolicyAccepted: { policyId: string; version: number; evidence?: Personal<Evidence> };
  ConsentGranted: {
    policyId: string;
    version: number;
    purposeId: string;
    expiresAt: Instant | null;
    evidence?: Personal<Evidence>;
  };
  ConsentWithdrawn: { policyId: string; version: number; purposeId: string; evidence?: Personal<Evidence> };
  ProcessingSuspended: { reason?: Personal<string>; dataRequestId?: string };
  ProcessingResumed: Record<string, never>;
  SubjectLeft: Record<string, never>;
  SubjectErased: { reason?: Personal<string>; dataRequestId?: string };
  DataRequestOpened: { requestId: string; kind: DataRequestKind; dueAt: Instant; note?: Personal<string> };
  DataRequestIdentityVerified: { requestId: string; method: Personal<string> };
  DataRequestClosed: { requestId: string; fulfilled: boolean; note?: Personal<string> };
}

export type EventType = keyof EventDataByType;
export const EVENT_TYPES = [
  "PolicyVersionPublished",
  "PolicyAccepted",
  "ConsentGranted",
  "ConsentWithdrawn",
  "ProcessingSuspended",
  "ProcessingResumed",
  "SubjectLeft",
  "SubjectErased",
  "DataRequestOpened",
  "DataRequestIdentityVerified",
  "DataRequestClosed",
] as const satisfies readonly EventType[];

/** Fails to compile when an event type is missing from EVENT_TYPES (readers rely on the list being whole). */
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
export const CONSENT_AFFECTING: ReadonlySet<EventType> = new Set<EventType>([
  "PolicyAccepted",
  "ConsentGranted",
  "ConsentWithdrawn",
  "ProcessingSuspended",
  "ProcessingResumed",
  "SubjectLeft",
  "SubjectErased",
]);
