// The subject as the permission rule sees it: now, as of an instant (valid and known), or through a
// log position; one query each over the bitemporal history tables.
import type { AsOf } from "../../../domain/catalog.js";
import { consentKey } from "../../../domain/subject.js";
import type { Instant } from "../../../domain/time.js";
import type { SubjectSnapshot } from "../../storage-port.js";
import { type AcceptanceRow, type ConsentRow, type LifecycleRow, toAcceptance, toConsentRecord, toLifecycle } from "../../read-model-rows.js";
import type { Queryable } from "./queryable.js";

type AcceptanceJson = AcceptanceRow & { policy_id: string };

function snapshot(lifecycle: LifecycleRow | null, acceptances: AcceptanceJson[], consents: ConsentRow[]): SubjectSnapshot {
  const l = toLifecycle(lifecycle);
  return {
    status: l.status,
    suspendedPurposes: l.suspendedPurposes,
    returnedAt: l.returnedAt,
    mergedInto: l.mergedInto,
    acceptances: new Map(acceptances.map((a) => [a.policy_id, toAcceptance(a)])),
    consents: new Map(consents.map((c) => [consentKey(c.policy_id, c.purpose_id), toConsentRecord(c)])),
  };
}

/** The filter a bitemporal lookup uses: facts valid at `at` and known at `knownAt`, or up to a position. */
type Bound = { kind: "asOf"; at: Instant; knownAt: Instant } | { kind: "through"; position: number };

async function boundedView(client: Queryable, subjectId: string, bound: Bound): Promise<SubjectSnapshot> {
  const where = bound.kind === "asOf" ? "occurred_at <= $2 AND recorded_at <= $3" : "position <= $2";
  const params = bound.kind === "asOf" ? [subjectId, bound.at, bound.knownAt] : [subjectId, bound.position];
  const { rows } = await client.query<{ lifecycle: LifecycleRow | null; acceptances: AcceptanceJson[]; consents: ConsentRow[] }>({
    name: bound.kind === "asOf" ? "ledger_view_as_of" : "ledger_view_through",
    text: `SELECT
       (SELECT row_to_json(l) FROM (SELECT status, suspended_purposes, returned_at, merged_into FROM status_history
          WHERE subject_id = $1 AND ${where} ORDER BY position DESC LIMIT 1) l) AS lifecycle,
       (SELECT COALESCE(json_agg(a), '[]') FROM (
          SELECT DISTINCT ON (policy_id) policy_id, version, occurred_at, position FROM acceptance_history
          WHERE subject_id = $1 AND ${where} ORDER BY policy_id, version DESC, occurred_at ASC, position ASC) a) AS acceptances,
       (SELECT COALESCE(json_agg(c), '[]') FROM (
          SELECT DISTINCT ON (policy_id, purpose_id) policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position
          FROM consent_history WHERE subject_id = $1 AND ${where}
          ORDER BY policy_id, purpose_id, occurred_at DESC, position DESC) c) AS consents`,
    values: params,
  });
  const r = rows[0]!;
  return snapshot(r.lifecycle, r.acceptances, r.consents);
}

/** The subject as of (at, knownAt), from the bitemporal tables. */
export const readViewAt = (client: Queryable, subjectId: string, asOf: AsOf) => boundedView(client, subjectId, { kind: "asOf", at: asOf.at, knownAt: asOf.knownAt });

/** The subject as its events up to and including `position` leave it. */
export const readViewThrough = (client: Queryable, subjectId: string, position: number) => boundedView(client, subjectId, { kind: "through", position });

/**
 * The subject now, from the current tables; when one of its facts is dated after `at` (a grant a
 * few minutes ahead), the choices come from the history as of `at` instead, as viewAt would give.
 */
export async function readCurrentView(client: Queryable, subjectId: string, at: Instant): Promise<SubjectSnapshot> {
  return (await readCurrentViewUntil(client, subjectId, at)).view;
}

/**
 * readCurrentView, and the first instant after `at` it may change at without a commit: the next
 * lifecycle fact dated ahead; `at` itself (nothing to keep) when a consent or an acceptance is
 * dated ahead, since its history decides the answer instant by instant.
 */
export async function readCurrentViewUntil(client: Queryable, subjectId: string, at: Instant): Promise<{ view: SubjectSnapshot; until: Instant }> {
  const { rows } = await client.query<{ lifecycle: LifecycleRow | null; acceptances: AcceptanceJson[]; consents: ConsentRow[]; next: string | null }>({
    name: "ledger_read_current_view_until",
    // Lifecycle facts may be dated a little ahead too (a return with a future occurredAt): they are read as of `at`.
    text: `SELECT
       (SELECT row_to_json(l) FROM (SELECT status, suspended_purposes, returned_at, merged_into FROM status_history
          WHERE subject_id = $1 AND occurred_at <= $2 ORDER BY position DESC LIMIT 1) l) AS lifecycle,
       (SELECT COALESCE(json_agg(json_build_object('policy_id', policy_id, 'version', accepted_version, 'occurred_at', accepted_at, 'position', position)), '[]')
          FROM standings WHERE subject_id = $1) AS acceptances,
       (SELECT COALESCE(json_agg(c), '[]') FROM consents c WHERE subject_id = $1) AS consents,
       (SELECT MIN(occurred_at) FROM status_history WHERE subject_id = $1 AND occurred_at > $2) AS next`,
    values: [subjectId, at],
  });
  const r = rows[0]!;
  const future = r.acceptances.some((a) => a.occurred_at > at) || r.consents.some((c) => c.occurred_at > at);
  if (!future) return { view: snapshot(r.lifecycle, r.acceptances, r.consents), until: r.next === null ? Number.POSITIVE_INFINITY : Number(r.next) };
  const past = await readViewAt(client, subjectId, { at, knownAt: Number.MAX_SAFE_INTEGER });
  return { view: { ...snapshot(r.lifecycle, [], []), acceptances: past.acceptances, consents: past.consents }, until: at };
}
