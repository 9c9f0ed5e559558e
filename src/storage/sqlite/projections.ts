// Read models kept in step with the log, inside the append's transaction; rebuildable from it.
import type Database from "better-sqlite3";
import type { DataRequestKind, LedgerEvent, Personal } from "../../domain/events.js";
import { subjectStream } from "../../domain/events.js";
import {
  type Acceptance,
  type ConsentRecord,
  type DataRequestState,
  type DataRequestStatus,
  INITIAL_LIFECYCLE,
  LIFECYCLE_EVENTS,
  type Lifecycle,
  type SubjectState,
  type SubjectStatus,
  consentKey,
  initialSubject,
  nextLifecycle,
} from "../../domain/subject.js";
import type { AsOf } from "../../domain/catalog.js";
import type { DataRequestPage, SubjectSnapshot } from "../storage-port.js";
import type { Instant } from "../../domain/time.js";

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
  purpose_ids: string | null;
  closing_note: string | null;
  identity_label: string | null;
  extended_days: number;
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
  purposeIds: r.purpose_ids === null ? null : (JSON.parse(r.purpose_ids) as string[]),
  closingNote: r.closing_note,
  identityLabel: r.identity_label,
  extendedDays: Number(r.extended_days),
});

/** The lifecycle columns of the subjects and status_history tables. */
interface LifecycleRow {
  status: SubjectStatus;
  suspended_purposes: string | null;
  returned_at: number | null;
  merged_into: string | null;
}

const toLifecycle = (r: LifecycleRow | undefined): Lifecycle =>
  r
    ? {
        status: r.status,
        suspendedPurposes: new Set(r.suspended_purposes === null ? [] : (JSON.parse(r.suspended_purposes) as string[])),
        returnedAt: r.returned_at,
        mergedInto: r.merged_into,
      }
    : INITIAL_LIFECYCLE;

const lifecycleColumns = (l: Lifecycle) =>
  [l.suspendedPurposes.size > 0 ? JSON.stringify([...l.suspendedPurposes].sort()) : null, l.returnedAt, l.mergedInto] as const;

interface SubjectRow {
  lifecycle: Lifecycle;
  version: number;
  position: number;
}
export type SubjectRows = Map<string, SubjectRow>;

/** The history tables' primary keys, the order a stepwise rebuild reads them in. */
const CONSENT_HISTORY_KEY = "subject_id, policy_id, purpose_id, occurred_at, position";
const ACCEPTANCE_HISTORY_KEY = "subject_id, policy_id, version, occurred_at, position";
interface HistoryConsentRow extends ConsentRow {
  subject_id: string;
  recorded_at: number;
}
interface HistoryAcceptanceRow {
  subject_id: string;
  policy_id: string;
  version: number;
  occurred_at: number;
  position: number;
  recorded_at: number;
}

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
      subjectGet: db.prepare("SELECT status, version, suspended_purposes, returned_at, merged_into FROM subjects WHERE subject_id = ?"),
      // The stepwise end of a rebuild (finishRebuildSteps): history in keyset pages, winners inserted as found.
      consentHistoryFirst: db.prepare(`SELECT * FROM consent_history ORDER BY ${CONSENT_HISTORY_KEY} LIMIT ?`),
      consentHistoryNext: db.prepare(`SELECT * FROM consent_history WHERE (${CONSENT_HISTORY_KEY}) > (?, ?, ?, ?, ?) ORDER BY ${CONSENT_HISTORY_KEY} LIMIT ?`),
      acceptanceHistoryFirst: db.prepare(`SELECT * FROM acceptance_history ORDER BY ${ACCEPTANCE_HISTORY_KEY} LIMIT ?`),
      acceptanceHistoryNext: db.prepare(`SELECT * FROM acceptance_history WHERE (${ACCEPTANCE_HISTORY_KEY}) > (?, ?, ?, ?, ?) ORDER BY ${ACCEPTANCE_HISTORY_KEY} LIMIT ?`),
      // expiry_noted as finishRebuild sets it: recorded already expired, or its expiry noted by an event.
      consentInsert: db.prepare(
        `INSERT INTO consents (subject_id, policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position, expiry_noted)
         VALUES (@subject_id, @policy_id, @purpose_id, @granted, @occurred_at, @expires_at, @policy_version, @event_id, @position,
           CASE WHEN (@expires_at IS NOT NULL AND @expires_at <= @recorded_at)
                  OR EXISTS (SELECT 1 FROM expiry_notes WHERE grant_event_id = @event_id) THEN 1 ELSE 0 END)`,
      ),
      standingInsert: db.prepare(
        "INSERT INTO standings (subject_id, policy_id, accepted_version, accepted_at, position) VALUES (@subject_id, @policy_id, @version, @occurred_at, @position)",
      ),
      subjectPut: db.prepare(
        `INSERT INTO subjects (subject_id, status, version, position, suspended_purposes, returned_at, merged_into) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (subject_id) DO UPDATE SET status = excluded.status, version = excluded.version, position = excluded.position,
           suspended_purposes = excluded.suspended_purposes, returned_at = excluded.returned_at, merged_into = excluded.merged_into`,
      ),
      // Last writer wins by valid time, then by position: the same order as the domain's evolve.
      consentPut: db.prepare(
        `INSERT INTO consents (subject_id, policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position, expiry_noted)
         VALUES (@subject_id, @policy_id, @purpose_id, @granted, @occurred_at, @expires_at, @policy_version, @event_id, @position, @expiry_noted)
         ON CONFLICT (subject_id, policy_id, purpose_id) DO UPDATE SET
           granted = excluded.granted, occurred_at = excluded.occurred_at, expires_at = excluded.expires_at,
           policy_version = excluded.policy_version, event_id = excluded.event_id, position = excluded.position,
           expiry_noted = excluded.expiry_noted
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
        `INSERT INTO data_requests (id, subject_id, kind, status, opened_at, due_at, closed_at, note, position, purpose_ids)
         VALUES (?, ?, ?, 'OPEN', ?, ?, NULL, ?, ?, ?)`,
      ),
      requestVerify: db.prepare("UPDATE data_requests SET status = 'IDENTITY_VERIFIED', identity_label = ?, position = ? WHERE id = ?"),
      requestClose: db.prepare("UPDATE data_requests SET status = ?, closed_at = ?, note = COALESCE(?, note), closing_note = ?, position = ? WHERE id = ?"),
      requestExtend: db.prepare("UPDATE data_requests SET due_at = ?, extended_days = extended_days + ?, position = ? WHERE id = ?"),
      expiryNote: db.prepare("INSERT OR IGNORE INTO expiry_notes (grant_event_id, subject_id, position) VALUES (?, ?, ?)"),
      expiryMark: db.prepare("UPDATE consents SET expiry_noted = 1 WHERE subject_id = ? AND policy_id = ? AND purpose_id = ? AND event_id = ?"),
      effectPublished: db.prepare("INSERT OR REPLACE INTO version_effects (policy_id, version, effective_at, noted_position) VALUES (?, ?, ?, ?)"),
      effectNoted: db.prepare("UPDATE version_effects SET noted_position = ? WHERE policy_id = ? AND version = ?"),
      transferPut: db.prepare(
        `INSERT INTO transfers (id, subject_id, occurred_at, recorded_at, direction, counterparty_id, purpose_id, basis, retain_until, position)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      transfersOf: db.prepare(
        "SELECT position FROM transfers WHERE subject_id = ? AND occurred_at >= ? AND occurred_at <= ? ORDER BY occurred_at, position",
      ).pluck(),
      dueExpiries: db.prepare(
        `SELECT subject_id, policy_id, purpose_id, expires_at, event_id FROM consents
         WHERE granted = 1 AND expires_at IS NOT NULL AND expiry_noted = 0 AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
      ),
      nextExpiry: db.prepare("SELECT MIN(expires_at) FROM consents WHERE granted = 1 AND expires_at IS NOT NULL AND expiry_noted = 0").pluck(),
      dueEffects: db.prepare("SELECT policy_id, version, effective_at FROM version_effects WHERE noted_position IS NULL AND effective_at <= ? ORDER BY effective_at, policy_id, version LIMIT ?"),
      nextEffect: db.prepare("SELECT MIN(effective_at) FROM version_effects WHERE noted_position IS NULL").pluck(),
      effectsBetween: db.prepare("SELECT noted_position FROM version_effects WHERE noted_position > ? AND noted_position <= ? ORDER BY noted_position").pluck(),
      subjectsOfPolicy: db.prepare("SELECT subject_id FROM standings WHERE policy_id = ? AND subject_id > ? ORDER BY subject_id LIMIT ?").pluck(),
      acceptedThrough: db.prepare(
        "SELECT DISTINCT subject_id FROM acceptance_history WHERE policy_id = ? AND subject_id > ? AND position <= ? ORDER BY subject_id LIMIT ?",
      ).pluck(),
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
      statusHistoryPut: db.prepare(
        `INSERT INTO status_history (subject_id, position, occurred_at, recorded_at, status, suspended_purposes, returned_at, merged_into)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
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
      statusAt: db.prepare(
        `SELECT status, suspended_purposes, returned_at, merged_into FROM status_history WHERE subject_id = ? AND occurred_at <= ? AND recorded_at <= ?
         ORDER BY position DESC LIMIT 1`,
      ),
      // "Through" lookups: the state right after the event at a log position (the change feed's before/after).
      consentThrough: db.prepare(
        `SELECT * FROM consent_history WHERE subject_id = ? AND policy_id = ? AND purpose_id = ? AND position <= ?
         ORDER BY occurred_at DESC, position DESC LIMIT 1`,
      ),
      acceptanceThrough: db.prepare(
        `SELECT version, occurred_at, position FROM acceptance_history WHERE subject_id = ? AND policy_id = ? AND position <= ?
         ORDER BY version DESC, occurred_at ASC, position ASC LIMIT 1`,
      ),
      statusThrough: db.prepare(
        "SELECT status, suspended_purposes, returned_at, merged_into FROM status_history WHERE subject_id = ? AND position <= ? ORDER BY position DESC LIMIT 1",
      ),
      mergedInto: db.prepare("SELECT merged_into FROM subjects WHERE subject_id = ? AND status = 'MERGED'").pluck(),
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
    for (const [id, r] of subjects) this.s.subjectPut.run(id, r.lifecycle.status, r.version, r.position, ...lifecycleColumns(r.lifecycle));
    this.db.exec(`
      INSERT INTO consents (subject_id, policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position, expiry_noted)
      SELECT subject_id, policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position,
             CASE WHEN expires_at IS NOT NULL AND expires_at <= recorded_at THEN 1 ELSE 0 END FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY subject_id, policy_id, purpose_id ORDER BY occurred_at DESC, position DESC) AS rank
        FROM consent_history) WHERE rank = 1;
      UPDATE consents SET expiry_noted = 1 WHERE event_id IN (SELECT grant_event_id FROM expiry_notes);
      INSERT INTO standings (subject_id, policy_id, accepted_version, accepted_at, position)
      SELECT subject_id, policy_id, version, occurred_at, position FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY subject_id, policy_id ORDER BY version DESC, occurred_at ASC, position ASC) AS rank
        FROM acceptance_history) WHERE rank = 1;
    `);
  }

  /**
   * finishRebuild in bounded steps, for a rebuild that gives the event loop back between them (the
   * read-model check): each step writes at most `chunk` subjects or reads at most `chunk` history
   * rows, whatever the size of the log or of one subject's history. Run each `next()` in a
   * transaction of this database; no statement stays open across steps.
   *
   * The winners are the same as finishRebuild's: history rows come in primary-key order, so a
   * consent's winner (latest occurred_at, then position) is the last row of its (subject, policy,
   * purpose), and a standing's (highest version, then earliest occurred_at, then position) is the
   * first row of its highest version.
   */
  *finishRebuildSteps(subjects: SubjectRows, chunk: number): Generator<void, void, void> {
    let n = 0;
    for (const [id, r] of subjects) {
      this.s.subjectPut.run(id, r.lifecycle.status, r.version, r.position, ...lifecycleColumns(r.lifecycle));
      if (++n % chunk === 0) yield;
    }
    yield;

    let consent: HistoryConsentRow | null = null;
    for (const page of this.historyPages(this.s.consentHistoryFirst, this.s.consentHistoryNext, chunk, (r: HistoryConsentRow) => [r.subject_id, r.policy_id, r.purpose_id, r.occurred_at, r.position])) {
      for (const r of page) {
        if (consent && (consent.subject_id !== r.subject_id || consent.policy_id !== r.policy_id || consent.purpose_id !== r.purpose_id)) this.s.consentInsert.run(consent);
        consent = r;
      }
      yield;
    }
    if (consent) this.s.consentInsert.run(consent);
    yield;

    let standing: HistoryAcceptanceRow | null = null;
    for (const page of this.historyPages(this.s.acceptanceHistoryFirst, this.s.acceptanceHistoryNext, chunk, (r: HistoryAcceptanceRow) => [r.subject_id, r.policy_id, r.version, r.occurred_at, r.position])) {
      for (const r of page) {
        if (standing && (standing.subject_id !== r.subject_id || standing.policy_id !== r.policy_id)) this.s.standingInsert.run(standing);
        if (!standing || standing.subject_id !== r.subject_id || standing.policy_id !== r.policy_id || r.version > standing.version) standing = r;
      }
      yield;
    }
    if (standing) this.s.standingInsert.run(standing);
  }

  /** Keyset pages of `chunk` rows in primary-key order: each page is one index seek, run to its end. */
  private *historyPages<R>(first: Database.Statement, next: Database.Statement, chunk: number, key: (r: R) => unknown[]): Generator<R[], void, void> {
    let rows = first.all(chunk) as R[];
    for (;;) {
      yield rows;
      if (rows.length < chunk) return;
      rows = next.all(...key(rows.at(-1)!), chunk) as R[];
    }
  }

  /** Keeps the read models in step; the store calls it inside the append's transaction. */
  apply(e: LedgerEvent, subjects?: SubjectRows): void {
    const subjectId = e.subjectId;
    if (subjectId === null) {
      this.applyPolicyEvent(e);
      return;
    }
    // A rebuild keeps the subjects table in memory and derives the current consents and standings
    // from the history tables once at the end (see rebuildProjections), instead of an upsert per event.
    let cur: { lifecycle: Lifecycle; version: number } | undefined;
    if (subjects) cur = subjects.get(subjectId);
    else {
      const row = this.s.subjectGet.get(subjectId) as (LifecycleRow & { version: number }) | undefined;
      cur = row && { lifecycle: toLifecycle(row), version: row.version };
    }
    const lifecycle = nextLifecycle(cur?.lifecycle ?? INITIAL_LIFECYCLE, e);
    const own = e.streamId === subjectStream(subjectId);
    const version = own ? Math.max(cur?.version ?? 0, e.streamVersion) : (cur?.version ?? 0);
    if (subjects) subjects.set(subjectId, { lifecycle, version, position: e.position });
    else this.s.subjectPut.run(subjectId, lifecycle.status, version, e.position, ...lifecycleColumns(lifecycle));
    if (LIFECYCLE_EVENTS.has(e.type)) {
      this.s.statusHistoryPut.run(subjectId, e.position, e.occurredAt, e.recordedAt, lifecycle.status, ...lifecycleColumns(lifecycle));
      return;
    }
    switch (e.type) {
      case "PolicyAccepted":
        if (!subjects) this.s.standingPut.run(subjectId, e.data.policyId, e.data.version, e.occurredAt, e.position);
        this.s.acceptanceHistoryPut.run(subjectId, e.data.policyId, e.data.version, e.occurredAt, e.position, e.recordedAt);
        return;
      case "ConsentExpired":
        this.s.expiryNote.run(e.data.grantEventId, subjectId, e.position);
        if (!subjects) this.s.expiryMark.run(subjectId, e.data.policyId, e.data.purposeId, e.data.grantEventId);
        return;
      case "ThirdPartyTransferRecorded":
        this.s.transferPut.run(
          e.data.transferId,
          subjectId,
          e.occurredAt,
          e.recordedAt,
          e.data.direction,
          e.data.counterparty.id,
          e.data.purposeId,
          e.data.basis,
          e.data.retainUntil,
          e.position,
        );
        return;
      case "DataRequestExtended":
        this.s.requestExtend.run(e.data.dueAt, e.data.days, e.position, e.data.requestId);
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
        // A grant recorded after it expired (a late import) is reported as expired by its own event.
        const expiryNoted = row.expires_at !== null && row.expires_at <= e.recordedAt ? 1 : 0;
        if (!subjects) this.s.consentPut.run({ ...row, expiry_noted: expiryNoted });
        return;
      }
      case "DataRequestOpened":
        this.s.requestOpen.run(
          e.data.requestId,
          subjectId,
          e.data.kind,
          e.occurredAt,
          e.data.dueAt,
          e.data.note ? JSON.stringify(e.data.note) : null,
          e.position,
          e.data.purposeIds ? JSON.stringify(e.data.purposeIds) : null,
        );
        return;
      case "DataRequestIdentityVerified":
        this.s.requestVerify.run(e.data.label ?? null, e.position, e.data.requestId);
        return;
      case "DataRequestClosed":
        this.s.requestClose.run(
          e.data.fulfilled ? "FULFILLED" : "REJECTED",
          e.occurredAt,
          e.data.note ? JSON.stringify(e.data.note) : null,
          e.data.officerNote ?? null,
          e.position,
          e.data.requestId,
        );
        return;
      default:
        return;
    }
  }

  /** Publications and their coming into effect: what the scheduler and the change feed look up. */
  private applyPolicyEvent(e: LedgerEvent): void {
    if (e.type === "PolicyVersionPublished")
      this.s.effectPublished.run(e.data.policyId, e.data.number, e.data.effectiveAt, e.data.effectiveAt <= e.recordedAt ? e.position : null);
    else if (e.type === "PolicyVersionEffective") this.s.effectNoted.run(e.position, e.data.policyId, e.data.version);
  }

  /** Grants past their expiresAt whose expiry is not yet in the log, oldest first. */
  dueExpiries(now: Instant, limit: number): { subjectId: string; policyId: string; purposeId: string; expiresAt: Instant; grantEventId: string }[] {
    return (this.s.dueExpiries.all(now, limit) as { subject_id: string; policy_id: string; purpose_id: string; expires_at: number; event_id: string }[]).map((r) => ({
      subjectId: r.subject_id,
      policyId: r.policy_id,
      purposeId: r.purpose_id,
      expiresAt: r.expires_at,
      grantEventId: r.event_id,
    }));
  }

  /** Published versions in effect by `now` whose coming into effect is not yet in the log. */
  dueEffects(now: Instant, limit: number): { policyId: string; version: number; effectiveAt: Instant }[] {
    return (this.s.dueEffects.all(now, limit) as { policy_id: string; version: number; effective_at: number }[]).map((r) => ({
      policyId: r.policy_id,
      version: r.version,
      effectiveAt: r.effective_at,
    }));
  }

  /** The next instant a time-driven change falls due (an expiry or a version coming into effect), if any. */
  nextDue(): Instant | null {
    const a = this.s.nextExpiry.get() as number | null;
    const b = this.s.nextEffect.get() as number | null;
    if (a === null) return b;
    return b === null ? a : Math.min(a, b);
  }

  /** Log positions in (after, upTo] where a version came into effect (a publication or its effect event). */
  effectPositions(after: number, upTo: number): number[] {
    return this.s.effectsBetween.all(after, upTo) as number[];
  }

  /** The subject this one was merged into, if it was. */
  mergedInto(subjectId: string): string | null {
    return (this.s.mergedInto.get(subjectId) as string | null | undefined) ?? null;
  }

  /** Subjects with a standing in a policy: those a version of it coming into effect may change. */
  subjectsOfPolicy(policyId: string, after: string, limit: number, through?: number): string[] {
    if (through !== undefined) return this.s.acceptedThrough.all(policyId, after, through, limit) as string[];
    return this.s.subjectsOfPolicy.all(policyId, after, limit) as string[];
  }

  /** Positions of a subject's transfer records with occurredAt in [from, to], oldest first. */
  transferPositions(subjectId: string, from: Instant, to: Instant): number[] {
    return this.s.transfersOf.all(subjectId, from, to) as number[];
  }

  /** A subject's current state from the read models: what decisions and "now" reads use. */
  subject(subjectId: string): SubjectState {
    const row = this.s.subjectGet.get(subjectId) as (LifecycleRow & { version: number }) | undefined;
    if (!row) return initialSubject(subjectId);
    const consents = new Map<string, ConsentRecord>();
    for (const r of this.s.consentsOf.all(subjectId) as ConsentRow[]) consents.set(consentKey(r.policy_id, r.purpose_id), toConsentRecord(r));
    const acceptances = new Map<string, Acceptance>();
    for (const r of this.s.standingsOf.all(subjectId) as StandingRow[])
      acceptances.set(r.policy_id, { version: r.accepted_version, acceptedAt: r.accepted_at, position: r.position });
    const dataRequests = new Map<string, DataRequestState>();
    for (const r of this.s.requestsOf.all(subjectId) as DataRequestRow[]) dataRequests.set(r.id, toDataRequest(r));
    return { id: subjectId, version: row.version, ...toLifecycle(row), acceptances, consents, dataRequests };
  }

  /**
   * The subject as the permission rule sees it as of (at, knownAt): per policy and per purpose it
   * ever touched, one indexed lookup in the bitemporal tables, whatever the length of its history.
   */
  viewAt(subjectId: string, asOf: AsOf): SubjectSnapshot {
    return this.snapshot(subjectId, {
      lifecycle: () => toLifecycle(this.s.statusAt.get(subjectId, asOf.at, asOf.knownAt) as LifecycleRow | undefined),
      acceptance: (policyId) => this.acceptanceAt(subjectId, policyId, asOf.at, asOf.knownAt),
      consent: (policyId, purposeId) => this.consentAt(subjectId, policyId, purposeId, asOf.at, asOf.knownAt),
    });
  }

  /**
   * The subject now, from the current tables; a fact dated after `at` (a grant a few minutes ahead)
   * is looked up in the history instead, so the answer is the same as viewAt's.
   */
  currentView(subjectId: string, at: Instant): SubjectSnapshot {
    // Lifecycle facts may be dated a little ahead too (a return with a future occurredAt): read them as of `at`.
    const lifecycle = toLifecycle(this.s.statusAt.get(subjectId, at, Number.MAX_SAFE_INTEGER) as LifecycleRow | undefined);
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
    return { status: lifecycle.status, suspendedPurposes: lifecycle.suspendedPurposes, returnedAt: lifecycle.returnedAt, mergedInto: lifecycle.mergedInto, acceptances, consents };
  }

  /**
   * The subject as the fold of its events up to and including log position `position` leaves it
   * (whatever their valid time): what the change feed compares before and after each event.
   */
  viewThrough(subjectId: string, position: number): SubjectSnapshot {
    return this.snapshot(subjectId, {
      lifecycle: () => toLifecycle(this.s.statusThrough.get(subjectId, position) as LifecycleRow | undefined),
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
      lifecycle: () => Lifecycle;
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
    const l = get.lifecycle();
    return { status: l.status, suspendedPurposes: l.suspendedPurposes, returnedAt: l.returnedAt, mergedInto: l.mergedInto, acceptances, consents };
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
}
