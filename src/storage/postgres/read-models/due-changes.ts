// The time-driven changes: grants past their expiry and versions coming into effect not yet in the
// log, the next instant one falls due, and the subjects a version coming into effect may change.
import type { Instant } from "../../../domain/time.js";
import type { Queryable } from "./queryable.js";

/** Grants past their expiresAt whose expiry is not yet in the log, oldest first (through the partial index). */
export async function readDueExpiries(
  client: Queryable,
  now: Instant,
  limit: number,
): Promise<{ subjectId: string; policyId: string; purposeId: string; expiresAt: Instant; grantEventId: string }[]> {
  const { rows } = await client.query<{ subject_id: string; policy_id: string; purpose_id: string; expires_at: string | number; event_id: string }>(
    `SELECT subject_id, policy_id, purpose_id, expires_at, event_id FROM consents
     WHERE granted AND expires_at IS NOT NULL AND NOT expiry_noted AND expires_at <= $1 ORDER BY expires_at LIMIT $2`,
    [now, limit],
  );
  return rows.map((r) => ({ subjectId: r.subject_id, policyId: r.policy_id, purposeId: r.purpose_id, expiresAt: Number(r.expires_at), grantEventId: r.event_id }));
}

/** Published versions in effect by `now` whose coming into effect is not yet in the log. */
export async function readDueEffects(client: Queryable, now: Instant, limit: number): Promise<{ policyId: string; version: number; effectiveAt: Instant }[]> {
  const { rows } = await client.query<{ policy_id: string; version: number; effective_at: string | number }>(
    `SELECT policy_id, version, effective_at FROM version_effects WHERE noted_position IS NULL AND effective_at <= $1
     ORDER BY effective_at, policy_id, version LIMIT $2`,
    [now, limit],
  );
  return rows.map((r) => ({ policyId: r.policy_id, version: Number(r.version), effectiveAt: Number(r.effective_at) }));
}

/** The next instant a time-driven change falls due, if any. */
export async function readNextDue(client: Queryable): Promise<Instant | null> {
  const { rows } = await client.query<{ expiry: string | number | null; effect: string | number | null }>(
    `SELECT (SELECT min(expires_at) FROM consents WHERE granted AND expires_at IS NOT NULL AND NOT expiry_noted) AS expiry,
            (SELECT min(effective_at) FROM version_effects WHERE noted_position IS NULL) AS effect`,
  );
  const r = rows[0]!;
  const due = [r.expiry, r.effect].filter((x): x is string | number => x !== null).map(Number);
  return due.length === 0 ? null : Math.min(...due);
}

/** Log positions in (after, upTo] where a version came into effect. */
export async function readEffectPositions(client: Queryable, after: number, upTo: number): Promise<number[]> {
  const { rows } = await client.query<{ p: string | number }>(
    "SELECT noted_position AS p FROM version_effects WHERE noted_position > $1 AND noted_position <= $2 ORDER BY noted_position",
    [after, upTo],
  );
  return rows.map((r) => Number(r.p));
}

/** Subjects with a standing in a policy, in id order after `after`. */
export async function readSubjectsOfPolicy(client: Queryable, policyId: string, after: string, limit: number, through?: number): Promise<string[]> {
  if (through !== undefined) {
    const { rows } = await client.query<{ subject_id: string }>(
      "SELECT DISTINCT subject_id FROM acceptance_history WHERE policy_id = $1 AND subject_id > $2 AND position <= $3 ORDER BY subject_id LIMIT $4",
      [policyId, after, through, limit],
    );
    return rows.map((r) => r.subject_id);
  }
  const { rows } = await client.query<{ subject_id: string }>(
    "SELECT subject_id FROM standings WHERE policy_id = $1 AND subject_id > $2 ORDER BY subject_id LIMIT $3",
    [policyId, after, limit],
  );
  return rows.map((r) => r.subject_id);
}
