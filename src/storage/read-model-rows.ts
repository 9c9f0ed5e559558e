// The read tables' rows as both adapters read them, and their mapping to the domain's records.
// SQLite hands back integers and 0/1; PostgreSQL hands back booleans, and BIGINT as strings where a
// column is read as it is (through json_agg it comes back a number).
import type { DataRequestKind, LedgerEvent, Personal } from "../domain/events.js";
import {
  type Acceptance,
  type ConsentRecord,
  type DataRequestState,
  type DataRequestStatus,
  INITIAL_LIFECYCLE,
  type Lifecycle,
  type SubjectStatus,
} from "../domain/subject.js";

/** A row of the consents or consent_history table (the columns a consent record needs). */
export interface ConsentRow {
  policy_id: string;
  purpose_id: string;
  granted: number | boolean;
  occurred_at: number;
  expires_at: number | null;
  policy_version: number;
  event_id: string;
  position: number;
}

/** A row of the data_requests table. */
export interface DataRequestRow {
  id: string;
  subject_id: string;
  kind: string;
  status: string;
  opened_at: number;
  due_at: number;
  closed_at: number | null;
  note: string | null;
  purpose_ids: string | null;
  closing_note: string | null;
  identity_label: string | null;
  extended_days: number;
}

/** The lifecycle columns of the subjects and status_history tables (status null: no row). */
export interface LifecycleRow {
  status: SubjectStatus | null;
  suspended_purposes: string | null;
  returned_at: number | string | null;
  merged_into: string | null;
}

/** An acceptance as the acceptance history (or a standing renamed to it) holds it. */
export interface AcceptanceRow {
  version: number;
  occurred_at: number;
  position: number;
}

export const toConsentRecord = (r: ConsentRow): ConsentRecord => ({
  policyId: r.policy_id,
  purposeId: r.purpose_id,
  granted: r.granted === true || r.granted === 1,
  occurredAt: r.occurred_at,
  expiresAt: r.expires_at,
  version: r.policy_version,
  eventId: r.event_id,
  position: r.position,
});

export const toAcceptance = (r: AcceptanceRow): Acceptance => ({ version: r.version, acceptedAt: r.occurred_at, position: r.position });

export const toDataRequest = (r: DataRequestRow): DataRequestState => ({
  id: r.id,
  subjectId: r.subject_id,
  kind: r.kind as DataRequestKind,
  status: r.status as DataRequestStatus,
  openedAt: r.opened_at,
  dueAt: r.due_at,
  closedAt: r.closed_at,
  note: r.note === null ? null : (JSON.parse(r.note) as Personal<string>),
  purposeIds: r.purpose_ids === null ? null : (JSON.parse(r.purpose_ids) as string[]),
  closingNote: r.closing_note,
  identityLabel: r.identity_label,
  extendedDays: Number(r.extended_days),
});

/** The lifecycle a row holds; INITIAL_LIFECYCLE when there is none. */
export const toLifecycle = (r: LifecycleRow | null | undefined): Lifecycle =>
  r && r.status !== null
    ? {
        status: r.status,
        suspendedPurposes: new Set(r.suspended_purposes === null ? [] : (JSON.parse(r.suspended_purposes) as string[])),
        returnedAt: r.returned_at === null ? null : Number(r.returned_at),
        mergedInto: r.merged_into,
      }
    : INITIAL_LIFECYCLE;

/** The lifecycle as its columns hold it (suspended purposes sorted, as JSON; null when none). */
export const lifecycleColumns = (l: Lifecycle) => ({
  status: l.status,
  suspended_purposes: l.suspendedPurposes.size > 0 ? JSON.stringify([...l.suspendedPurposes].sort()) : null,
  returned_at: l.returnedAt,
  merged_into: l.mergedInto,
});

/** A row of the standings table: the acceptance that stands for a subject and a policy. */
export interface StandingRow {
  policy_id: string;
  accepted_version: number;
  accepted_at: number;
  position: number;
}

export const toStanding = (r: StandingRow): Acceptance => ({ version: r.accepted_version, acceptedAt: r.accepted_at, position: r.position });

type EventOf<T extends LedgerEvent["type"]> = Extract<LedgerEvent, { type: T }>;

/** A data request's row as its opening writes it, in column order: id, subject, kind, opened at, due at, note (JSON), position, purpose ids (JSON). */
export const openedRequestValues = (e: EventOf<"DataRequestOpened">) =>
  [
    e.data.requestId,
    e.subjectId,
    e.data.kind,
    e.occurredAt,
    e.data.dueAt,
    e.data.note ? JSON.stringify(e.data.note) : null,
    e.position,
    e.data.purposeIds ? JSON.stringify(e.data.purposeIds) : null,
  ] as const;

/** What a closing writes, in order: status, closed at, note (JSON, null keeps the opening's), the officer's note, position, then the request's id. */
export const closedRequestValues = (e: EventOf<"DataRequestClosed">) =>
  [e.data.fulfilled ? "FULFILLED" : "REJECTED", e.occurredAt, e.data.note ? JSON.stringify(e.data.note) : null, e.data.officerNote ?? null, e.position, e.data.requestId] as const;

/** A transfer's row in column order: id, subject, occurred at, recorded at, direction, counterparty, purpose, basis, retain until, position. */
export const transferValues = (e: EventOf<"ThirdPartyTransferRecorded">) =>
  [e.data.transferId, e.subjectId, e.occurredAt, e.recordedAt, e.data.direction, e.data.counterparty.id, e.data.purposeId, e.data.basis, e.data.retainUntil, e.position] as const;
