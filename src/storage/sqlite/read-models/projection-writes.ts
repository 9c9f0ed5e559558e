// The read-model writes of an append on SQLite: each event applied inside the append's transaction
// (or, for a rebuild, with the subjects kept in memory and the current tables derived at the end).
import type Database from "better-sqlite3";
import type { LedgerEvent } from "../../../domain/events.js";
import { subjectStream } from "../../../domain/events.js";
import { INITIAL_LIFECYCLE, LIFECYCLE_EVENTS, type Lifecycle, nextLifecycle } from "../../../domain/subject.js";
import { type LifecycleRow, closedRequestValues, lifecycleColumns, openedRequestValues, toLifecycle, transferValues } from "../../read-model-rows.js";

interface SubjectRow {
  lifecycle: Lifecycle;
  version: number;
  position: number;
}
/** Subjects' rows in memory: the whole table during a rebuild, the subjects of one append otherwise. */
export type SubjectRows = Map<string, SubjectRow>;

/** The lifecycle columns after status, in the order the statements take them. */
export const lifecycleValues = (l: Lifecycle) => {
  const c = lifecycleColumns(l);
  return [c.suspended_purposes, c.returned_at, c.merged_into] as const;
};

export class SqliteProjectionWrites {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      subjectGet: db.prepare("SELECT status, version, suspended_purposes, returned_at, merged_into FROM subjects WHERE subject_id = ?"),
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
    };
  }

  /**
   * Keeps the read models in step with one append's events; the store calls it inside the append's
   * transaction, once the events are stored. Each subject's row is read once and written once per
   * append (its lifecycle folded over the events in memory), not read and written again per event.
   */
  applyAll(events: readonly LedgerEvent[]): void {
    const rows: SubjectRows = new Map();
    for (const e of events) this.applyEvent(e, rows, false);
    for (const [subjectId, r] of rows) this.s.subjectPut.run(subjectId, r.lifecycle.status, r.version, r.position, ...lifecycleValues(r.lifecycle));
  }

  /**
   * One event. With `subjects` (a rebuild) the subjects table is kept in that map and the current
   * consents and standings are derived from the history tables once at the end.
   */
  apply(e: LedgerEvent, subjects?: SubjectRows): void {
    if (subjects) this.applyEvent(e, subjects, true);
    else this.applyAll([e]);
  }

  /**
   * Applies `e`, its subject's row taken from and left in `rows` (read from the table on first use
   * unless `rebuild`, where the map is the whole table). A rebuild skips the current consents and
   * standings, derived at its end (see rebuildProjections) instead of an upsert per event.
   */
  private applyEvent(e: LedgerEvent, rows: SubjectRows, rebuild: boolean): void {
    const subjectId = e.subjectId;
    if (subjectId === null) {
      this.applyPolicyEvent(e);
      return;
    }
    let cur: { lifecycle: Lifecycle; version: number } | undefined = rows.get(subjectId);
    if (!cur && !rebuild) {
      const row = this.s.subjectGet.get(subjectId) as (LifecycleRow & { version: number }) | undefined;
      cur = row && { lifecycle: toLifecycle(row), version: row.version };
    }
    const lifecycle = nextLifecycle(cur?.lifecycle ?? INITIAL_LIFECYCLE, e);
    const own = e.streamId === subjectStream(subjectId);
    const version = own ? Math.max(cur?.version ?? 0, e.streamVersion) : (cur?.version ?? 0);
    rows.set(subjectId, { lifecycle, version, position: e.position });
    if (LIFECYCLE_EVENTS.has(e.type)) {
      this.s.statusHistoryPut.run(subjectId, e.position, e.occurredAt, e.recordedAt, lifecycle.status, ...lifecycleValues(lifecycle));
      return;
    }
    switch (e.type) {
      case "PolicyAccepted":
        if (!rebuild) this.s.standingPut.run(subjectId, e.data.policyId, e.data.version, e.occurredAt, e.position);
        this.s.acceptanceHistoryPut.run(subjectId, e.data.policyId, e.data.version, e.occurredAt, e.position, e.recordedAt);
        return;
      case "ConsentExpired":
        this.s.expiryNote.run(e.data.grantEventId, subjectId, e.position);
        if (!rebuild) this.s.expiryMark.run(subjectId, e.data.policyId, e.data.purposeId, e.data.grantEventId);
        return;
      case "ThirdPartyTransferRecorded":
        this.s.transferPut.run(...transferValues(e));
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
        if (!rebuild) this.s.consentPut.run({ ...row, expiry_noted: expiryNoted });
        return;
      }
      case "DataRequestOpened":
        this.s.requestOpen.run(...openedRequestValues(e));
        return;
      case "DataRequestIdentityVerified":
        this.s.requestVerify.run(e.data.label ?? null, e.position, e.data.requestId);
        return;
      case "DataRequestClosed":
        this.s.requestClose.run(...closedRequestValues(e));
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
}
