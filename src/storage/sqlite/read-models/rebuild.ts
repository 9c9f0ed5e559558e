// The end of a read-model rebuild on SQLite: the subjects kept in memory written, and the current
// consents and standings derived from their histories, at once or in bounded steps.
import type Database from "better-sqlite3";
import { type SubjectRows, lifecycleValues } from "./projection-writes.js";
import type { ConsentRow } from "../../read-model-rows.js";

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

export class SqliteRebuild {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
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
    };
  }

  /**
   * Ends a rebuild: writes the subjects it kept in memory, and the current consents and standings
   * as the winners of their histories, chosen in the same order as the inline upserts (and evolve).
   */
  finishRebuild(subjects: SubjectRows): void {
    for (const [id, r] of subjects) this.s.subjectPut.run(id, r.lifecycle.status, r.version, r.position, ...lifecycleValues(r.lifecycle));
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
      this.s.subjectPut.run(id, r.lifecycle.status, r.version, r.position, ...lifecycleValues(r.lifecycle));
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
}
