// The read-model writes of an append on PostgreSQL: planned from the appended events and run as
// common table expressions of the append's one statement (or on their own, for a rebuild or a copy).
import type { LedgerEvent } from "../../../domain/events.js";
import { INITIAL_LIFECYCLE, LIFECYCLE_EVENTS, type Lifecycle, consentKey, nextLifecycle } from "../../../domain/subject.js";
import { type LifecycleRow, lifecycleColumns, toLifecycle } from "../../read-model-rows.js";
import type { Queryable } from "./queryable.js";
import { writeRequests } from "./rare-writes.js";

/** Later in valid time wins, then the later position: the domain's evolve order. */
const laterConsent = (a: LedgerEvent, b: LedgerEvent) => a.occurredAt > b.occurredAt || (a.occurredAt === b.occurredAt && a.position > b.position);

/** Each subject's lifecycle before `events` (the read models' word; ACTIVE for one never seen). */
export async function statusesBefore(client: Queryable, subjectIds: readonly string[]): Promise<Map<string, Lifecycle>> {
  const status = new Map<string, Lifecycle>();
  if (subjectIds.length === 0) return status;
  const { rows } = await client.query<LifecycleRow & { subject_id: string }>({
    name: "ledger_statuses_before",
    text: "SELECT subject_id, status, suspended_purposes, returned_at, merged_into FROM subjects WHERE subject_id = ANY($1::text[])",
    values: [[...subjectIds]],
  });
  for (const r of rows) status.set(r.subject_id, toLifecycle(r));
  return status;
}

/** The read-model writes for appended events: SQL common table expressions and their parameters. */
export interface ProjectionWrites {
  /** `WITH` members (no leading comma) numbering their parameters from `first`. */
  ctes(first: number): string;
  params: string[];
  /** Data request, expiry, transfer and publication events, written one statement each after the rest (they are rare). */
  requests: LedgerEvent[];
}

/**
 * Plans the read-model writes for events just appended (positions ascending), given each subject's
 * status before them. Each upsert guards with the domain's winner order, so an older fact never
 * replaces a newer one; standings are chosen among the stored and the new acceptances at once.
 */
export function projectionWrites(events: readonly LedgerEvent[], statusBefore: ReadonlyMap<string, Lifecycle>): ProjectionWrites {
  const status = new Map(statusBefore);
  const subjects = new Map<string, ReturnType<typeof lifecycleColumns> & { version: number; position: number }>();
  const consentHistory: Record<string, unknown>[] = [];
  const consentWinners = new Map<string, LedgerEvent>();
  const acceptanceHistory: Record<string, unknown>[] = [];
  const statusHistory: Record<string, unknown>[] = [];
  const requests: LedgerEvent[] = [];
  for (const e of events) {
    const sid = e.subjectId;
    if (sid === null) {
      if (e.type === "PolicyVersionPublished" || e.type === "PolicyVersionEffective") requests.push(e);
      continue;
    }
    const next = nextLifecycle(status.get(sid) ?? INITIAL_LIFECYCLE, e);
    status.set(sid, next);
    subjects.set(sid, { ...lifecycleColumns(next), version: e.streamVersion, position: e.position });
    if (LIFECYCLE_EVENTS.has(e.type)) {
      statusHistory.push({ subject_id: sid, position: e.position, occurred_at: e.occurredAt, recorded_at: e.recordedAt, ...lifecycleColumns(next) });
      continue;
    }
    switch (e.type) {
      case "PolicyAccepted":
        acceptanceHistory.push({ subject_id: sid, policy_id: e.data.policyId, version: e.data.version, occurred_at: e.occurredAt, position: e.position, recorded_at: e.recordedAt });
        break;
      case "ConsentGranted":
      case "ConsentWithdrawn": {
        consentHistory.push({
          subject_id: sid,
          policy_id: e.data.policyId,
          purpose_id: e.data.purposeId,
          occurred_at: e.occurredAt,
          position: e.position,
          recorded_at: e.recordedAt,
          granted: e.type === "ConsentGranted",
          expires_at: e.type === "ConsentGranted" ? e.data.expiresAt : null,
          policy_version: e.data.version,
          event_id: e.id,
          // A grant recorded after it expired (a late import) is reported as expired by its own event.
          expiry_noted: e.type === "ConsentGranted" && e.data.expiresAt !== null && e.data.expiresAt <= e.recordedAt,
        });
        const k = `${sid}\u0000${consentKey(e.data.policyId, e.data.purposeId)}`;
        const cur = consentWinners.get(k);
        if (!cur || laterConsent(e, cur)) consentWinners.set(k, e);
        break;
      }
      case "DataRequestOpened":
      case "DataRequestIdentityVerified":
      case "DataRequestClosed":
      case "DataRequestExtended":
      case "ConsentExpired":
      case "ThirdPartyTransferRecorded":
        requests.push(e);
        break;
      default:
        break;
    }
  }
  // One upsert per row: the winner among this batch's choices for each purpose.
  const consents = consentHistory.filter((c) => consentWinners.get(`${c.subject_id as string}\u0000${consentKey(c.policy_id as string, c.purpose_id as string)}`)?.position === c.position);
  const params = [
    JSON.stringify([...subjects].map(([subject_id, r]) => ({ subject_id, ...r }))),
    JSON.stringify(consentHistory),
    JSON.stringify(consents),
    JSON.stringify(acceptanceHistory),
    JSON.stringify(statusHistory),
  ];
  const ctes = (f: number) => `
     p_subjects AS (
       INSERT INTO subjects (subject_id, status, version, position, suspended_purposes, returned_at, merged_into)
       SELECT subject_id, status, version, position, suspended_purposes, returned_at, merged_into
       FROM json_to_recordset($${f}::json) AS r(subject_id text, status text, version bigint, position bigint, suspended_purposes text, returned_at bigint, merged_into text)
       ON CONFLICT (subject_id) DO UPDATE SET status = excluded.status, version = GREATEST(subjects.version, excluded.version), position = excluded.position,
         suspended_purposes = excluded.suspended_purposes, returned_at = excluded.returned_at, merged_into = excluded.merged_into
       RETURNING 1),
     p_consent_history AS (
       INSERT INTO consent_history (subject_id, policy_id, purpose_id, occurred_at, position, recorded_at, granted, expires_at, policy_version, event_id)
       SELECT subject_id, policy_id, purpose_id, occurred_at, position, recorded_at, granted, expires_at, policy_version, event_id
       FROM json_to_recordset($${f + 1}::json) AS r(subject_id text, policy_id text, purpose_id text, occurred_at bigint, position bigint,
         recorded_at bigint, granted boolean, expires_at bigint, policy_version integer, event_id text)
       RETURNING 1),
     p_consents AS (
       INSERT INTO consents (subject_id, policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position, expiry_noted)
       SELECT subject_id, policy_id, purpose_id, granted, occurred_at, expires_at, policy_version, event_id, position, expiry_noted
       FROM json_to_recordset($${f + 2}::json) AS r(subject_id text, policy_id text, purpose_id text, occurred_at bigint, position bigint,
         recorded_at bigint, granted boolean, expires_at bigint, policy_version integer, event_id text, expiry_noted boolean)
       ON CONFLICT (subject_id, policy_id, purpose_id) DO UPDATE SET
         granted = excluded.granted, occurred_at = excluded.occurred_at, expires_at = excluded.expires_at,
         policy_version = excluded.policy_version, event_id = excluded.event_id, position = excluded.position, expiry_noted = excluded.expiry_noted
       WHERE excluded.occurred_at > consents.occurred_at
          OR (excluded.occurred_at = consents.occurred_at AND excluded.position > consents.position)
       RETURNING 1),
     p_new_acceptances AS (
       SELECT * FROM json_to_recordset($${f + 3}::json) AS r(subject_id text, policy_id text, version integer, occurred_at bigint, position bigint, recorded_at bigint)),
     p_acceptance_history AS (
       INSERT INTO acceptance_history (subject_id, policy_id, version, occurred_at, position, recorded_at) SELECT * FROM p_new_acceptances
       RETURNING 1),
     p_standings AS (
       INSERT INTO standings (subject_id, policy_id, accepted_version, accepted_at, position)
       SELECT DISTINCT ON (subject_id, policy_id) subject_id, policy_id, version, occurred_at, position FROM (
         SELECT h.subject_id, h.policy_id, h.version, h.occurred_at, h.position FROM acceptance_history h
         WHERE (h.subject_id, h.policy_id) IN (SELECT subject_id, policy_id FROM p_new_acceptances)
         UNION ALL SELECT subject_id, policy_id, version, occurred_at, position FROM p_new_acceptances) candidates
       ORDER BY subject_id, policy_id, version DESC, occurred_at ASC, position ASC
       ON CONFLICT (subject_id, policy_id) DO UPDATE SET
         accepted_version = excluded.accepted_version, accepted_at = excluded.accepted_at, position = excluded.position
       RETURNING 1),
     p_status_history AS (
       INSERT INTO status_history (subject_id, position, occurred_at, recorded_at, status, suspended_purposes, returned_at, merged_into)
       SELECT * FROM json_to_recordset($${f + 4}::json) AS r(subject_id text, position bigint, occurred_at bigint, recorded_at bigint, status text,
         suspended_purposes text, returned_at bigint, merged_into text)
       RETURNING 1)`;
  return { ctes, params, requests };
}

/** The count expressions that make PostgreSQL run every projection CTE (an unreferenced one may be skipped). */
export const PROJECTION_COUNTS =
  "(SELECT count(*) FROM p_subjects), (SELECT count(*) FROM p_consent_history), (SELECT count(*) FROM p_consents), " +
  "(SELECT count(*) FROM p_acceptance_history), (SELECT count(*) FROM p_standings), (SELECT count(*) FROM p_status_history)";

/** Writes the read models for events already in the log (rebuild, copy): statuses read, then one statement. */
export async function projectEvents(client: Queryable, events: readonly LedgerEvent[]): Promise<void> {
  const ids = [...new Set(events.map((e) => e.subjectId).filter((s): s is string => s !== null))];
  const w = projectionWrites(events, await statusesBefore(client, ids));
  await client.query(`WITH ${w.ctes(1)} SELECT ${PROJECTION_COUNTS}`, w.params);
  await writeRequests(client, w.requests);
}
