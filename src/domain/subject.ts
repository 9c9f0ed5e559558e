// A subject's state as a fold of its events (evolve), evaluated at any valid and transaction time.
import type { AsOf } from "./catalog.js";
import { type DataRequestKind, type DomainEvent, type LedgerEvent, type Personal, subjectStream } from "./events.js";
import type { Instant } from "./time.js";

export const SUBJECT_STATUSES = ["ACTIVE", "SUSPENDED", "LEFT", "ERASED", "MERGED"] as const;
export type SubjectStatus = (typeof SUBJECT_STATUSES)[number];
export const DATA_REQUEST_STATUSES = ["OPEN", "IDENTITY_VERIFIED", "FULFILLED", "REJECTED"] as const;
export type DataRequestStatus = (typeof DATA_REQUEST_STATUSES)[number];

/** The latest choice a subject made about one purpose of one policy. */
export interface ConsentRecord {
  policyId: string;
  purposeId: string;
  granted: boolean;
  occurredAt: Instant;
  expiresAt: Instant | null;
  version: number;
  eventId: string;
  position: number;
}

export interface Acceptance {
  version: number;
  acceptedAt: Instant;
  position: number;
}

export interface DataRequestState {
  id: string;
  subjectId: string;
  kind: DataRequestKind;
  status: DataRequestStatus;
  openedAt: Instant;
  dueAt: Instant;
  closedAt: Instant | null;
  /** The requester's note (sealed), or an older record's closing note. */
  note: Personal<string> | null;
  /** The purposes a SUSPENSION request names; null for all. */
  purposeIds: string[] | null;
  /** The officer's note on closing: the officer's record, kept through erasure. */
  closingNote: string | null;
  /** The kind of identity check (e.g. "document"), not personal, kept through erasure. */
  identityLabel: string | null;
  /** How many days its extensions moved the due date in total (capped by DATA_REQUEST_MAX_EXTENSION_DAYS). */
  extendedDays: number;
}

/**
 * What the permission rule needs of a subject at one instant: its status, the winning acceptance per
 * policy and the winning choice per (policy, purpose). Read models serve it in one go.
 */
export interface SubjectSnapshot {
  status: SubjectStatus;
  /** Purposes a scoped suspension stopped while the subject stays ACTIVE. */
  suspendedPurposes: ReadonlySet<string>;
  /** When (valid time) the subject last came back after leaving: opt-in grants from before it no longer count; null if it never did. */
  returnedAt: Instant | null;
  /** The subject this one was merged into, when MERGED. */
  mergedInto: string | null;
  /** By policy id. */
  acceptances: ReadonlyMap<string, Acceptance>;
  /** By consentKey(policyId, purposeId). */
  consents: ReadonlyMap<string, ConsentRecord>;
}

export interface SubjectState extends SubjectSnapshot {
  id: string;
  /** The subject stream's version: how many events it holds. */
  version: number;
  dataRequests: ReadonlyMap<string, DataRequestState>;
}

/** Still open (or identity verified) past its due date: the one definition of an overdue data request. */
export const isOverdue = (r: Pick<DataRequestState, "status" | "dueAt">, now: Instant): boolean =>
  (r.status === "OPEN" || r.status === "IDENTITY_VERIFIED") && r.dueAt < now;

export const consentKey = (policyId: string, purposeId: string) => `${policyId}\u0000${purposeId}`;

export const initialSubject = (id: string): SubjectState => ({
  id,
  version: 0,
  status: "ACTIVE",
  suspendedPurposes: new Set(),
  returnedAt: null,
  mergedInto: null,
  acceptances: new Map(),
  consents: new Map(),
  dataRequests: new Map(),
});

/** The lifecycle part of a subject's state: what the status history keeps per change. */
export interface Lifecycle {
  status: SubjectStatus;
  suspendedPurposes: ReadonlySet<string>;
  returnedAt: Instant | null;
  mergedInto: string | null;
}

export const INITIAL_LIFECYCLE: Lifecycle = { status: "ACTIVE", suspendedPurposes: new Set(), returnedAt: null, mergedInto: null };

/**
 * The lifecycle: ACTIVE <-> SUSPENDED (or some purposes suspended while ACTIVE), LEFT (and back to
 * ACTIVE by accepting the policy again), MERGED into another subject, ERASED for good.
 */
export function nextLifecycle(l: Lifecycle, e: DomainEvent): Lifecycle {
  if (l.status === "ERASED") return l;
  switch (e.type) {
    case "ProcessingSuspended": {
      const scoped = e.data.purposeIds;
      if (scoped && scoped.length > 0) return l.status === "ACTIVE" ? { ...l, suspendedPurposes: new Set([...l.suspendedPurposes, ...scoped]) } : l;
      return l.status === "ACTIVE" ? { ...l, status: "SUSPENDED" } : l;
    }
    case "ProcessingResumed":
      return l.status === "SUSPENDED" || l.suspendedPurposes.size > 0 ? { ...l, status: l.status === "SUSPENDED" ? "ACTIVE" : l.status, suspendedPurposes: new Set() } : l;
    case "SubjectLeft":
      return { ...l, status: "LEFT", suspendedPurposes: new Set() };
    case "SubjectReturned":
      return l.status === "LEFT" ? { ...l, status: "ACTIVE", returnedAt: e.occurredAt } : l;
    case "SubjectMerged":
      return { ...l, status: "MERGED", mergedInto: e.data.into };
    case "SubjectErased":
      return { ...l, status: "ERASED", suspendedPurposes: new Set() };
    default:
      return l;
  }
}

/** The status after an event of `type` with no purposes named (a whole-subject change). */
export const nextStatus = (status: SubjectStatus, type: string): SubjectStatus =>
  nextLifecycle({ ...INITIAL_LIFECYCLE, status }, { type, data: { into: "" }, occurredAt: 0 } as DomainEvent).status;

/** Event types that change a subject's lifecycle (and so the status history). */
export const LIFECYCLE_EVENTS: ReadonlySet<string> = new Set([
  "ProcessingSuspended",
  "ProcessingResumed",
  "SubjectLeft",
  "SubjectReturned",
  "SubjectMerged",
  "SubjectErased",
]);

/** The kind of an identity check, from the method's text: a leading slug before ":" (e.g. "document: …"), else "recorded". */
export function identityLabelOf(method: string): string {
  const m = /^\s*([A-Za-z][A-Za-z0-9_-]{0,39})\s*:/.exec(method);
  return m ? m[1]!.toLowerCase() : "recorded";
}

/** Later in valid time wins; the log position breaks ties (a later append is the later word). */
const later = (a: { occurredAt: Instant; position: number }, b: { occurredAt: Instant; position: number }) =>
  a.occurredAt > b.occurredAt ||
  (a.occurredAt === b.occurredAt &&
    // Stryker disable next-line EqualityOperator: two events never share a log position, so > and >= agree
    a.position > b.position);

const withEntry = <V>(m: ReadonlyMap<string, V>, k: string, v: V): Map<string, V> => new Map(m).set(k, v);

/**
 * Applies one event. Consent and acceptance are order-independent (last-writer-wins by valid time,
 * highest accepted version), so folding in log order equals folding in valid-time order; this is
 * what lets a back-dated import land after later choices without overriding them.
 */
export function evolve(state: SubjectState, e: LedgerEvent): SubjectState {
  const own = e.streamId === subjectStream(state.id);
  const next = { ...state, version: own ? Math.max(state.version, e.streamVersion) : state.version };
  switch (e.type) {
    case "PolicyAccepted": {
      const prev = state.acceptances.get(e.data.policyId);
      const cand = { version: e.data.version, acceptedAt: e.occurredAt, position: e.position };
      const wins =
        !prev ||
        cand.version > prev.version ||
        (cand.version === prev.version && later({ occurredAt: prev.acceptedAt, position: prev.position }, { occurredAt: cand.acceptedAt, position: cand.position }));
      return wins ? { ...next, acceptances: withEntry(state.acceptances, e.data.policyId, cand) } : next;
    }
    case "ConsentGranted":
    case "ConsentWithdrawn": {
      const key = consentKey(e.data.policyId, e.data.purposeId);
      const rec: ConsentRecord = {
        policyId: e.data.policyId,
        purposeId: e.data.purposeId,
        granted: e.type === "ConsentGranted",
        occurredAt: e.occurredAt,
        expiresAt: e.type === "ConsentGranted" ? e.data.expiresAt : null,
        version: e.data.version,
        eventId: e.id,
        position: e.position,
      };
      const prev = state.consents.get(key);
      return !prev || later(rec, prev) ? { ...next, consents: withEntry(state.consents, key, rec) } : next;
    }
    case "ProcessingSuspended":
    case "ProcessingResumed":
    case "SubjectLeft":
    case "SubjectReturned":
    case "SubjectMerged":
    case "SubjectErased":
    {
      const l = nextLifecycle(state, e);
      return { ...next, status: l.status, suspendedPurposes: l.suspendedPurposes, returnedAt: l.returnedAt, mergedInto: l.mergedInto };
    }
    case "DataRequestOpened":
      return {
        ...next,
        dataRequests: withEntry(state.dataRequests, e.data.requestId, {
          id: e.data.requestId,
          subjectId: state.id,
          kind: e.data.kind,
          status: "OPEN",
          openedAt: e.occurredAt,
          dueAt: e.data.dueAt,
          closedAt: null,
          note: e.data.note ?? null,
          purposeIds: e.data.purposeIds ?? null,
          closingNote: null,
          identityLabel: null,
          extendedDays: 0,
        }),
      };
    case "DataRequestIdentityVerified": {
      const r = state.dataRequests.get(e.data.requestId);
      return r ? { ...next, dataRequests: withEntry(state.dataRequests, r.id, { ...r, status: "IDENTITY_VERIFIED", identityLabel: e.data.label ?? null }) } : next;
    }
    case "DataRequestClosed": {
      const r = state.dataRequests.get(e.data.requestId);
      if (!r) return next;
      const closed: DataRequestState = {
        ...r,
        status: e.data.fulfilled ? "FULFILLED" : "REJECTED",
        closedAt: e.occurredAt,
        note: e.data.note ?? r.note,
        closingNote: e.data.officerNote ?? null,
      };
      return { ...next, dataRequests: withEntry(state.dataRequests, r.id, closed) };
    }
    case "DataRequestExtended": {
      const r = state.dataRequests.get(e.data.requestId);
      return r ? { ...next, dataRequests: withEntry(state.dataRequests, r.id, { ...r, dueAt: e.data.dueAt, extendedDays: r.extendedDays + e.data.days }) } : next;
    }
    case "PolicyVersionPublished":
    case "PolicyVersionEffective":
    case "ConsentExpired":
    case "ThirdPartyTransferRecorded":
    case "PersonalDataAccessed":
    case "NoticeShown":
    case "PolicyAnnounced":
      return next;
  }
}

/** Whether an event counts for a read as of `asOf`: recorded by knownAt and occurred by at. */
export const visibleAt = (e: { occurredAt: Instant; recordedAt: Instant }, asOf: AsOf) =>
  e.recordedAt <= asOf.knownAt && e.occurredAt <= asOf.at;

/** The subject's state as the fold of its history, optionally as of a past instant. */
export function foldSubject(id: string, events: Iterable<LedgerEvent>, asOf?: AsOf): SubjectState {
  let s = initialSubject(id);
  for (const e of events) if (!asOf || visibleAt(e, asOf)) s = evolve(s, e);
  return s;
}
