// A subject's state as a fold of its events (evolve), evaluated at any valid and transaction time.
import type { AsOf } from "./catalog.js";
import type { DataRequestKind, LedgerEvent, Personal } from "./events.js";
import type { Instant } from "./time.js";

export const SUBJECT_STATUSES = ["ACTIVE", "SUSPENDED", "LEFT", "ERASED"] as const;
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
  note: Personal<string> | null;
}

export interface SubjectState {
  id: string;
  /** The subject stream's version: how many events it holds. */
  version: number;
  status: SubjectStatus;
  acceptances: ReadonlyMap<string, Acceptance>;
  consents: ReadonlyMap<string, ConsentRecord>;
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
  acceptances: new Map(),
  consents: new Map(),
  dataRequests: new Map(),
});

/** The lifecycle: ACTIVE <-> SUSPENDED, then LEFT, then ERASED; nothing leads back. */
export function nextStatus(status: SubjectStatus, type: string): SubjectStatus {
  switch (type) {
    case "ProcessingSuspended":
      return status === "ACTIVE" ? "SUSPENDED" : status;
    case "ProcessingResumed":
      return status === "SUSPENDED" ? "ACTIVE" : status;
    case "SubjectLeft":
      return status === "ERASED" ? status : "LEFT";
    case "SubjectErased":
      return "ERASED";
    default:
      return status;
  }
}

/** Later in valid time wins; the log position breaks ties (a later append is the later word). */
const later = (a: { occurredAt: Instant; position: number }, b: { occurredAt: Instant; position: number }) =>
  a.occurredAt > b.occurredAt || (a.occurredAt === b.occurredAt && a.position > b.position);

const withEntry = <V>(m: ReadonlyMap<string, V>, k: string, v: V): Map<string, V> => new Map(m).set(k, v);

/**
 * Applies one event. Consent and acceptance are order-independent (last-writer-wins by valid time,
 * highest accepted version), so folding in log order equals folding in valid-time order; this is
 * what lets a back-dated import land after later choices without overriding them.
 */
export function evolve(state: SubjectState, e: LedgerEvent): SubjectState {
  const next = { ...state, version: Math.max(state.version, e.streamVersion) };
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
    case "SubjectErased":
      return { ...next, status: nextStatus(state.status, e.type) };
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
        }),
      };
    case "DataRequestIdentityVerified": {
      const r = state.dataRequests.get(e.data.requestId);
      return r ? { ...next, dataRequests: withEntry(state.dataRequests, r.id, { ...r, status: "IDENTITY_VERIFIED" }) } : next;
    }
    case "DataRequestClosed": {
      const r = state.dataRequests.get(e.data.requestId);
      if (!r) return next;
      const closed: DataRequestState = {
        ...r,
        status: e.data.fulfilled ? "FULFILLED" : "REJECTED",
        closedAt: e.occurredAt,
        note: e.data.note ?? r.note,
      };
      return { ...next, dataRequests: withEntry(state.dataRequests, r.id, closed) };
    }
    case "PolicyVersionPublished":
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
