// Read models kept in step with the log, inside the append's transaction; rebuildable from it.
import type Database from "better-sqlite3";
import type { DataRequestKind, LedgerEvent, Personal } from "../../domain/events.js";
import {
  type Acceptance,
  type ConsentRecord,
  type DataRequestState,
  type DataRequestStatus,
  type SubjectState,
  type SubjectStatus,
  consentKey,
  initialSubject,
  nextStatus,
} from "../../domain/subject.js";
import type { AsOf } from "../../domain/catalog.js";
import type { DataRequestPage, SubjectSnapshot } from "../storage-port.js";
import type { Instant } from "../../domain/time.js";
import { PROJECTION_TABLES } from "./schema.js";

interface ConsentRow {
  policy_id: string;
  purpose_id: string;
  granted: number;
  occurred_at: number;
  expires_at: number | null;
  policy_version: number;
  event_id: string;
  position: number;
}
interface StandingRow {
  policy_id: string;
  accepted_version: number;
  accepted_at: number;
  position: number;
}
interface DataRequestRow {
  id: string;
  subject_id: string;
  kind: string;
  status: string;
  opened_at: number;
  due_at: number;
  closed_at: number | null;
  note: string | null;
}

const toDataRequest = (r: DataRequestRow): DataRequestState => ({
  id: r.id,
  subjectId: r.subject_id,
  kind: r.kind as DataRequestKind,
  status: r.status as DataRequestStatus,
  openedAt: r.opened_at,
  dueAt: r.due_at,
  closedAt: r.closed_at,
  note: r.note === null ? null : (JSON.parse(r.note) as Personal<string>),
});

interface SubjectRow {
  status: SubjectStatus;
  version: number;
  position?: number;
}
export type SubjectRows = Map<string, SubjectRow & { position: number }>;

const toConsentRecord = (r: ConsentRow): ConsentRecord => ({
  policyId: r.policy_id,
  purposeId: r.purpose_id,
  granted: r.granted === 1,
  occurredAt: r.occurred_at,
  expiresAt: r.expires_at,
  version: r.policy_version,
  eventId: r.event_id,
  position: r.position,
});

export class SqliteProjections {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      subjectGet: db.prepare("SELECT status, version FROM subjects WHERE subject_id = ?"),
      subjectPut: db.prepare(
        `INSERT INTO subjects (subject_id, status, version, position) VALUES (?, ?, ?, ?)
         ON CONFLICT (subject_id) DO UPDATE SET status = excluded.status, version = excluded.version, position = excluded.position`,
      ),
      // Last writer wins by valid time, then by position: the same order as the domain's evolve.
      consentPut: db.prepare(
        `INSERT INTO consents (subject_id, policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position)
         VALUES (@subject_id, @policy_id, @purpose_id, @granted, @occurred_at, @expires_at, @policy_version, @event_id, @position)
         ON CONFLICT (subject_id, policy_id, purpose_id) DO UPDATE SET
           granted = excluded.granted, occurred_at = excluded.occurred_at, expires_at = excluded.expires_at,
           policy_version = excluded.policy_version, event_id = excluded.event_id, position = excluded.position
         WHERE excluded.occurred_at > consents.occurred_at
            OR (excluded.occurred_at = consents.occurred_at AND excluded.position > consents.position)`,
      ),
      // The highest accepted version wins; for the same version, the first acceptance in valid time.
      standingPut: db.prepare(
        `INSERT INTO standings (subject_id, policy_id, accepted_version, accepted_at, position) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (subject_id, policy_id) DO UPDATE SET
           accepted_version = excluded.accepted_version, accepted_at = excluded.accepted_at, position = excluded.position
         WHERE excluded.accepted_version > standings.accepted_version
            OR (excluded.accepted_version = standings.accepted_version
                AND (standings.accepted_at > excluded.accepted_at
                     OR (standings.accepted_at = excluded.accepted_at AND standings.position > excluded.position)))`,
      ),
      requestOpen: db.prepare(
        `INSERT INTO data_requests (id, subject_id, kind, status, opened_at, due_at, closed_at, note, position)
         VALUES (?, ?, ?, 'OPEN', ?, ?, NULL, ?, ?)`,
      ),
      requestVerify: db.prepare("UPDATE data_requests SET status = 'IDENTITY_VERIFIED', position = ? WHERE id = ?"),
      requestClose: db.prepare("UPDATE data_requests SET status = ?, closed_at = ?, note = COALESCE(?, note), position = ? WHERE id = ?"),
      consentsOf: db.prepare("SELECT * FROM consents WHERE subject_id = ?"),
      standingsOf: db.prepare("SELECT * FROM standings WHERE subject_id = ?"),
      requestsOf: db.prepare("SELECT * FROM data_requests WHERE subject_id = ? ORDER BY opened_at, id"),
      requestById: db.prepare("SELECT * FROM data_requests WHERE id = ?"),
      // Keyset pages of the officers' queue by (due_at, id); @status and @overdue are null for either.
      // Overdue as the domain's isOverdue says: still open (or verified) and due before @now.
      requestsPage: db.prepare(
        `SELECT * FROM data_requests
         WHERE (@status IS NULL OR status = @status) AND (due_at, id) > (@dueAt, @id)
           AND (@overdue IS NULL OR (status IN ('OPEN', 'IDENTITY_VERIFIED') AND due_at < @now) = @overdue)
         ORDER BY due_at, id LIMIT @limit`,
      ),
      consentHistoryPut: db.prepare(
        `INSERT INTO consent_history (subject_id, policy_id, purpose_id, occurred_at, position, recorded_at, granted, expires_at, policy_version, event_id)
         VALUES (@subject_id, @policy_id, @purpose_id, @occurred_at, @position, @recorded_at, @granted, @expires_at, @policy_version, @event_id)`,
      ),
      acceptanceHistoryPut: db.prepare(
        "INSERT INTO acceptance_history (subject_id, policy_id, version, occurred_at, position, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      statusHistoryPut: db.prepare("INSERT INTO status_history (subject_id, position, occurred_at, recorded_at, status) VALUES (?, ?, ?, ?, ?)"),
      // "As of" lookups: the same winners as the domain's evolve, among the facts visible at (at, knownAt).
      consentAt: db.prepare(
        `SELECT * FROM consent_history
         WHERE subject_id = ? AND policy_id = ? AND purpose_id = ? AND occurred_at <= ? AND recorded_at <= ?
         ORDER BY occurred_at DESC, position DESC LIMIT 1`,
      ),
      acceptanceAt: db.prepare(
        `SELECT version, occurred_at, position FROM acceptance_history
         WHERE subject_id = ? AND policy_id = ? AND occurred_at <= ? AND recorded_at <= ?
         ORDER BY version DESC, occurred_at ASC, position ASC LIMIT 1`,
      ),
      statusAt: db
        .prepare(
          `SELECT status FROM status_history WHERE subject_id = ? AND occurred_at <= ? AND recorded_at <= ?
           ORDER BY position DESC LIMIT 1`,
        )
        .pluck(),
      // "Through" lookups: the state right after the event at a log position (the change feed's before/after).
      consentThrough: db.prepare(
        `SELECT * FROM consent_history WHERE subject_id = ? AND policy_id = ? AND purpose_id = ? AND position <= ?
         ORDER BY occurred_at DESC, position DESC LIMIT 1`,
      ),
      acceptanceThrough: db.prepare(
        `SELECT version, occurred_at, position FROM acceptance_history WHERE subject_id = ? AND policy_id = ? AND position <= ?
         ORDER BY version DESC, occurred_at ASC, position ASC LIMIT 1`,
      ),
      statusThrough: db.prepare("SELECT status FROM status_history WHERE subject_id = ? AND position <= ? ORDER BY position DESC LIMIT 1").pluck(),
      subjectStatus: db.prepare("SELECT status FROM subjects WHERE subject_id = ?").pluck(),
      // Every (policy, purpose) a subject ever chose about, and every policy it ever accepted: the current tables hold one row each.
      pairsOf: db.prepare("SELECT policy_id, purpose_id FROM consents WHERE subject_id = ?"),
      policiesOf: db.prepare("SELECT policy_id FROM standings WHERE subject_id = ?").pluck(),
      pending: db.prepare(
        `SELECT s.subject_id FROM subjects s
         LEFT JOIN standings st ON st.subject_id = s.subject_id AND st.policy_id = @policy
         WHERE s.status IN ('ACTIVE', 'SUSPENDED') AND COALESCE(st.accepted_version, 0) < @threshold AND s.subject_id > @after
         ORDER BY s.subject_id LIMIT @limit`,
      ),
    };
  }

  /**
   * Ends a rebuild: writes the subjects it kept in memory, and the current consents and standings
   * as the winners of their histories, chosen in the same order as the inline upserts (and evolve).
   */
  finishRebuild(subjects: SubjectRows): void {
    for (const [id, r] of subjects) this.s.subjectPut.run(id, r.status, r.version, r.position);
    this.db.exec(`
      INSERT INTO consents (subject_id, policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position)
      SELECT subject_id, policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY subject_id, policy_id, purpose_id ORDER BY occurred_at DESC, position DESC) AS rank
        FROM consent_history) WHERE rank = 1;
      INSERT INTO standings (subject_id, policy_id, accepted_version, accepted_at, position)
      SELECT subject_id, policy_id, version, occurred_at, position FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY subject_id, policy_id ORDER BY version DESC, occurred_at ASC, position ASC) AS rank
        FROM acceptance_history) WHERE rank = 1;
    `);
  }

  /** Keeps the read models in step; the store calls it inside the append's transaction. */
  apply(e: LedgerEvent, subjects?: SubjectRows): void {
    const subjectId = e.subjectId;
    if (subjectId === null) return;
    // A rebuild keeps the subjects table in memory and derives the current consents and standings
    // from the history tables once at the end (see rebuildProjections), instead of an upsert per event.
    const cur = subjects ? subjects.get(subjectId) : (this.s.subjectGet.get(subjectId) as SubjectRow | undefined);
    const status = nextStatus(cur?.status ?? "ACTIVE", e.type);
    const version = Math.max(cur?.version ?? 0, e.streamVersion);
    if (subjects) subjects.set(subjectId, { status, version, position: e.position });
    else this.s.subjectPut.run(subjectId, status, version, e.position);
    switch (e.type) {
      case "PolicyAccepted":
        if (!subjects) this.s.standingPut.run(subjectId, e.data.policyId, e.data.version, e.occurredAt, e.position);
        this.s.acceptanceHistoryPut.run(subjectId, e.data.policyId, e.data.version, e.occurredAt, e.position, e.recordedAt);
        return;
      case "ProcessingSuspended":
      case "ProcessingResumed":
      case "SubjectLeft":
      case "SubjectErased":
        this.s.statusHistoryPut.run(subjectId, e.position, e.occurredAt, e.recordedAt, status);
        return;
      case "ConsentGranted":
      case "ConsentWithdrawn": {
        const row = {
          subject_id: subjectId,
          policy_id: e.data.policyId,
          purpose_id: e.data.purposeId,
          occurred_at: e.occurredAt,
          position: e.position,
          recorded_at: e.recordedAt,
          granted: e.type === "ConsentGranted" ? 1 : 0,
          expires_at: e.type === "ConsentGranted" ? e.data.expiresAt : null,
          policy_version: e.data.version,
          event_id: e.id,
        };
        this.s.consentHistoryPut.run(row);
        if (!subjects) this.s.consentPut.run(row);
        return;
      }
      case "DataRequestOpened":
        this.s.requestOpen.run(e.data.requestId, subjectId, e.data.kind, e.occurredAt, e.data.dueAt, e.data.note ? JSON.stringify(e.data.note) : null, e.position);
        return;
      case "DataRequestIdentityVerified":
        this.s.requestVerify.run(e.position, e.data.requestId);
        return;
      case "DataRequestClosed":
        this.s.requestClose.run(e.data.fulfilled ? "FULFILLED" : "REJECTED", e.occurredAt, e.data.note ? JSON.stringify(e.data.note) : null, e.position, e.data.requestId);
        return;
      default:
        return;
    }
  }

  /** A subject's current state from the read models: what decisions and "now" reads use. */
  subject(subjectId: string): SubjectState {
    const row = this.s.subjectGet.get(subjectId) as { status: SubjectStatus; version: number } | undefined;
    if (!row) return initialSubject(subjectId);
    const consents = new Map<string, ConsentRecord>();
    for (const r of this.s.consentsOf.all(subjectId) as ConsentRow[]) consents.set(consentKey(r.policy_id, r.purpose_id), toConsentRecord(r));
    const acceptances = new Map<string, Acceptance>();
    for (const r of this.s.standingsOf.all(subjectId) as StandingRow[])
      acceptances.set(r.policy_id, { version: r.accepted_version, acceptedAt: r.accepted_at, position: r.position });
    const dataRequests = new Map<string, DataRequestState>();
    for (const r of this.s.requestsOf.all(subjectId) as DataRequestRow[]) dataRequests.set(r.id, toDataRequest(r));
    return { id: subjectId, version: row.version, status: row.status, acceptances, consents, dataRequests };
  }

  /**
   * The subject as the permission rule sees it as of (at, knownAt): per policy and per purpose it
   * ever touched, one indexed lookup in the bitemporal tables, whatever the length of its history.
   */
  viewAt(subjectId: string, asOf: AsOf): SubjectSnapshot {
    return this.snapshot(subjectId, {
      status: () => (this.s.statusAt.get(subjectId, asOf.at, asOf.knownAt) as SubjectStatus | undefined) ?? "ACTIVE",
      acceptance: (policyId) => this.acceptanceAt(subjectId, policyId, asOf.at, asOf.knownAt),
      consent: (policyId, purposeId) => this.consentAt(subjectId, policyId, purposeId, asOf.at, asOf.knownAt),
    });
  }

  /**
   * The subject now, from the current tables; a fact dated after `at` (a grant a few minutes ahead)
   * is looked up in the history instead, so the answer is the same as viewAt's.
   */
  currentView(subjectId: string, at: Instant): SubjectSnapshot {
    const status = (this.s.subjectStatus.get(subjectId) as SubjectStatus | undefined) ?? "ACTIVE";
    const acceptances = new Map<string, Acceptance>();
    for (const r of this.s.standingsOf.all(subjectId) as StandingRow[]) {
      const a = r.accepted_at > at ? this.acceptanceAt(subjectId, r.policy_id, at, Number.MAX_SAFE_INTEGER) : { version: r.accepted_version, acceptedAt: r.accepted_at, position: r.position };
      if (a) acceptances.set(r.policy_id, a);
    }
    const consents = new Map<string, ConsentRecord>();
    for (const r of this.s.consentsOf.all(subjectId) as ConsentRow[]) {
      const c = r.occurred_at > at ? this.consentAt(subjectId, r.policy_id, r.purpose_id, at, Number.MAX_SAFE_INTEGER) : toConsentRecord(r);
      if (c) consents.set(consentKey(r.policy_id, r.purpose_id), c);
    }
    return { status, acceptances, consents };
  }

  /**
   * The subject as the fold of its events up to and including log position `position` leaves it
   * (whatever their valid time): what the change feed compares before and after each event.
   */
  viewThrough(subjectId: string, position: number): SubjectSnapshot {
    return this.snapshot(subjectId, {
      status: () => (this.s.statusThrough.get(subjectId, position) as SubjectStatus | undefined) ?? "ACTIVE",
      acceptance: (policyId) => {
        const r = this.s.acceptanceThrough.get(subjectId, policyId, position) as { version: number; occurred_at: number; position: number } | undefined;
        return r && { version: r.version, acceptedAt: r.occurred_at, position: r.position };
      },
      consent: (policyId, purposeId) => {
        const r = this.s.consentThrough.get(subjectId, policyId, purposeId, position) as ConsentRow | undefined;
        return r && toConsentRecord(r);
      },
    });
  }

  /** A snapshot from per-policy and per-purpose lookups over everything the subject ever touched. */
  private snapshot(
    subjectId: string,
    get: {
      status: () => SubjectStatus;
      acceptance: (policyId: string) => Acceptance | undefined;
      consent: (policyId: string, purposeId: string) => ConsentRecord | undefined;
    },
  ): SubjectSnapshot {
    const acceptances = new Map<string, Acceptance>();
    for (const policyId of this.s.policiesOf.all(subjectId) as string[]) {
      const a = get.acceptance(policyId);
      if (a) acceptances.set(policyId, a);
    }
    const consents = new Map<string, ConsentRecord>();
    for (const { policy_id, purpose_id } of this.s.pairsOf.all(subjectId) as { policy_id: string; purpose_id: string }[]) {
      const c = get.consent(policy_id, purpose_id);
      if (c) consents.set(consentKey(policy_id, purpose_id), c);
    }
    return { status: get.status(), acceptances, consents };
  }

  private acceptanceAt(subjectId: string, policyId: string, at: Instant, knownAt: Instant): Acceptance | undefined {
    const r = this.s.acceptanceAt.get(subjectId, policyId, at, knownAt) as { version: number; occurred_at: number; position: number } | undefined;
    return r && { version: r.version, acceptedAt: r.occurred_at, position: r.position };
  }

  private consentAt(subjectId: string, policyId: string, purposeId: string, at: Instant, knownAt: Instant): ConsentRecord | undefined {
    const r = this.s.consentAt.get(subjectId, policyId, purposeId, at, knownAt) as ConsentRow | undefined;
    return r && toConsentRecord(r);
  }

  dataRequest(id: string): DataRequestState | undefined {
    const r = this.s.requestById.get(id) as DataRequestRow | undefined;
    return r && toDataRequest(r);
  }

  /** The officer's queue by (dueAt, id), a page after `page.from`; overdue = still open (or verified) past its due date. */
  dataRequests(status: DataRequestStatus | null, overdue: boolean | null, now: Instant, page: DataRequestPage): DataRequestState[] {
    const rows = this.s.requestsPage.all({
      status,
      overdue: overdue === null ? null : overdue ? 1 : 0,
      now,
      dueAt: page.from?.dueAt ?? Number.MIN_SAFE_INTEGER,
      id: page.from?.id ?? "",
      limit: page.first,
    }) as DataRequestRow[];
    return rows.map(toDataRequest);
  }

  /** Active subjects whose accepted version is below `threshold`, in id order after `after`. */
  pendingReconsent(policyId: string, threshold: number, after: string, limit: number): string[] {
    if (threshold === 0) return [];
    return this.s.pending.pluck().all({ policy: policyId, threshold, after, limit }) as string[];
  }

  /** Every projection row, in a stable order: what tests compare against a fold or a rebuild. */
  dump(): Record<string, unknown[]> {
    const out: Record<string, unknown[]> = {};
    for (const t of PROJECTION_TABLES) out[t] = this.db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2, 3`).all();
    return out;
  }
}
