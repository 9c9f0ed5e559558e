// The time-driven changes on SQLite: grants past their expiry and versions coming into effect not yet
// in the log, the next instant one falls due, and the subjects a version coming into effect may change.
import type Database from "better-sqlite3";
import type { Instant } from "../../../domain/time.js";

export class SqliteDueChanges {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
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
    };
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

  /** Subjects with a standing in a policy: those a version of it coming into effect may change. */
  subjectsOfPolicy(policyId: string, after: string, limit: number, through?: number): string[] {
    if (through !== undefined) return this.s.acceptedThrough.all(policyId, after, through, limit) as string[];
    return this.s.subjectsOfPolicy.all(policyId, after, limit) as string[];
  }
}
