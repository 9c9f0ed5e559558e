// A subject's current state, whom it was merged into, and the subjects still to consent again, from
// the current read tables on SQLite.
import type Database from "better-sqlite3";
import { type Acceptance, type ConsentRecord, type DataRequestState, type SubjectState, consentKey, initialSubject } from "../../../domain/subject.js";
import { type ConsentRow, type DataRequestRow, type LifecycleRow, type StandingRow, toConsentRecord, toDataRequest, toLifecycle, toStanding } from "../../read-model-rows.js";

export class SqliteSubjects {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      subjectGet: db.prepare("SELECT status, version, suspended_purposes, returned_at, merged_into FROM subjects WHERE subject_id = ?"),
      consentsOf: db.prepare("SELECT * FROM consents WHERE subject_id = ?"),
      standingsOf: db.prepare("SELECT * FROM standings WHERE subject_id = ?"),
      requestsOf: db.prepare("SELECT * FROM data_requests WHERE subject_id = ? ORDER BY opened_at, id"),
      mergedInto: db.prepare("SELECT merged_into FROM subjects WHERE subject_id = ? AND status = 'MERGED'").pluck(),
      pending: db.prepare(
        `SELECT s.subject_id FROM subjects s
         LEFT JOIN standings st ON st.subject_id = s.subject_id AND st.policy_id = @policy
         WHERE s.status IN ('ACTIVE', 'SUSPENDED') AND COALESCE(st.accepted_version, 0) < @threshold AND s.subject_id > @after
         ORDER BY s.subject_id LIMIT @limit`,
      ),
    };
  }

  /** A subject's current state from the read models: what decisions and "now" reads use. */
  subject(subjectId: string): SubjectState {
    const row = this.s.subjectGet.get(subjectId) as (LifecycleRow & { version: number }) | undefined;
    if (!row) return initialSubject(subjectId);
    const consents = new Map<string, ConsentRecord>();
    for (const r of this.s.consentsOf.all(subjectId) as ConsentRow[]) consents.set(consentKey(r.policy_id, r.purpose_id), toConsentRecord(r));
    const acceptances = new Map<string, Acceptance>();
    for (const r of this.s.standingsOf.all(subjectId) as StandingRow[])
      acceptances.set(r.policy_id, toStanding(r));
    const dataRequests = new Map<string, DataRequestState>();
    for (const r of this.s.requestsOf.all(subjectId) as DataRequestRow[]) dataRequests.set(r.id, toDataRequest(r));
    return { id: subjectId, version: row.version, ...toLifecycle(row), acceptances, consents, dataRequests };
  }

  /** The subject this one was merged into, if it was. */
  mergedInto(subjectId: string): string | null {
    return (this.s.mergedInto.get(subjectId) as string | null | undefined) ?? null;
  }

  /** Active subjects whose accepted version is below `threshold`, in id order after `after`. */
  pendingReconsent(policyId: string, threshold: number, after: string, limit: number): string[] {
    if (threshold === 0) return [];
    return this.s.pending.pluck().all({ policy: policyId, threshold, after, limit }) as string[];
  }
}
