// The subject as the permission rule sees it on SQLite: now, as of an instant (valid and known), or
// through a log position; per policy and per purpose one indexed lookup in the history tables.
import type Database from "better-sqlite3";
import type { AsOf } from "../../../domain/catalog.js";
import { type Acceptance, type ConsentRecord, type Lifecycle, consentKey } from "../../../domain/subject.js";
import type { Instant } from "../../../domain/time.js";
import type { SubjectSnapshot } from "../../storage-port.js";
import { type AcceptanceRow, type ConsentRow, type LifecycleRow, type StandingRow, toAcceptance, toConsentRecord, toLifecycle, toStanding } from "../../read-model-rows.js";

export class SqliteViews {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
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
      // The current tables, for a view now.
      consentsOf: db.prepare("SELECT * FROM consents WHERE subject_id = ?"),
      standingsOf: db.prepare("SELECT * FROM standings WHERE subject_id = ?"),
      // Every (policy, purpose) a subject ever chose about, and every policy it ever accepted: the current tables hold one row each.
      pairsOf: db.prepare("SELECT policy_id, purpose_id FROM consents WHERE subject_id = ?"),
      policiesOf: db.prepare("SELECT policy_id FROM standings WHERE subject_id = ?").pluck(),
      // The first lifecycle fact dated after an instant: until then a view read at that instant holds.
      statusNext: db.prepare("SELECT MIN(occurred_at) FROM status_history WHERE subject_id = ? AND occurred_at > ?").pluck(),
    };
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
    return this.currentViewUntil(subjectId, at).view;
  }

  /**
   * currentView, and the first instant after `at` it may change at without a commit: the next
   * lifecycle fact dated ahead; `at` itself (nothing to keep) when a consent or an acceptance is
   * dated ahead, since its history decides the answer instant by instant.
   */
  currentViewUntil(subjectId: string, at: Instant): { view: SubjectSnapshot; until: Instant } {
    let ahead = false;
    // Lifecycle facts may be dated a little ahead too (a return with a future occurredAt): read them as of `at`.
    const lifecycle = toLifecycle(this.s.statusAt.get(subjectId, at, Number.MAX_SAFE_INTEGER) as LifecycleRow | undefined);
    const acceptances = new Map<string, Acceptance>();
    for (const r of this.s.standingsOf.all(subjectId) as StandingRow[]) {
      if (r.accepted_at > at) ahead = true;
      const a = r.accepted_at > at ? this.acceptanceAt(subjectId, r.policy_id, at, Number.MAX_SAFE_INTEGER) : toStanding(r);
      if (a) acceptances.set(r.policy_id, a);
    }
    const consents = new Map<string, ConsentRecord>();
    for (const r of this.s.consentsOf.all(subjectId) as ConsentRow[]) {
      if (r.occurred_at > at) ahead = true;
      const c = r.occurred_at > at ? this.consentAt(subjectId, r.policy_id, r.purpose_id, at, Number.MAX_SAFE_INTEGER) : toConsentRecord(r);
      if (c) consents.set(consentKey(r.policy_id, r.purpose_id), c);
    }
    const next = this.s.statusNext.get(subjectId, at) as number | null;
    const view = { status: lifecycle.status, suspendedPurposes: lifecycle.suspendedPurposes, returnedAt: lifecycle.returnedAt, mergedInto: lifecycle.mergedInto, acceptances, consents };
    return { view, until: ahead ? at : (next ?? Number.POSITIVE_INFINITY) };
  }

  /**
   * The subject as the fold of its events up to and including log position `position` leaves it
   * (whatever their valid time): what the change feed compares before and after each event.
   */
  viewThrough(subjectId: string, position: number): SubjectSnapshot {
    return this.snapshot(subjectId, {
      lifecycle: () => toLifecycle(this.s.statusThrough.get(subjectId, position) as LifecycleRow | undefined),
      acceptance: (policyId) => {
        const r = this.s.acceptanceThrough.get(subjectId, policyId, position) as AcceptanceRow | undefined;
        return r && toAcceptance(r);
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
    const r = this.s.acceptanceAt.get(subjectId, policyId, at, knownAt) as AcceptanceRow | undefined;
    return r && toAcceptance(r);
  }

  private consentAt(subjectId: string, policyId: string, purposeId: string, at: Instant, knownAt: Instant): ConsentRecord | undefined {
    const r = this.s.consentAt.get(subjectId, policyId, purposeId, at, knownAt) as ConsentRow | undefined;
    return r && toConsentRecord(r);
  }
}
