// A subject's current state, and the subjects still to consent again, from the current read tables.
import { type SubjectState, type SubjectStatus, consentKey, initialSubject } from "../../../domain/subject.js";
import { type ConsentRow, type DataRequestRow, type LifecycleRow, type StandingRow, toConsentRecord, toDataRequest, toLifecycle, toStanding } from "../../read-model-rows.js";
import type { Queryable } from "./queryable.js";

/** One subject's state as the read tables hold it (the columns of subjectStateColumns). */
export interface SubjectStateRow {
  status: SubjectStatus | null;
  lifecycle: LifecycleRow | null;
  subject_version: number | null;
  consents: ConsentRow[];
  standings: StandingRow[];
  requests: DataRequestRow[];
}

/**
 * The select list of a subject's state, for the subject id given by the SQL expression `id`, with
 * `subjects` joined as `s` (LEFT JOIN: a subject never seen has no row).
 */
export const subjectStateColumns = (id: string) => `s.status, s.version AS subject_version,
       (SELECT row_to_json(l) FROM (SELECT status, suspended_purposes, returned_at, merged_into FROM subjects WHERE subject_id = ${id}) l) AS lifecycle,
       (SELECT COALESCE(json_agg(c), '[]') FROM consents c WHERE c.subject_id = ${id}) AS consents,
       (SELECT COALESCE(json_agg(st), '[]') FROM standings st WHERE st.subject_id = ${id}) AS standings,
       (SELECT COALESCE(json_agg(d ORDER BY d.opened_at, d.id), '[]') FROM data_requests d WHERE d.subject_id = ${id}) AS requests`;

/** The state a subjectStateColumns row describes (a fresh one for a subject never seen). */
export function toSubjectState(subjectId: string, r: SubjectStateRow): SubjectState {
  if (r.status === null || r.subject_version === null) return initialSubject(subjectId);
  return {
    id: subjectId,
    version: r.subject_version,
    ...toLifecycle(r.lifecycle),
    consents: new Map(r.consents.map((c) => [consentKey(c.policy_id, c.purpose_id), toConsentRecord(c)])),
    acceptances: new Map(r.standings.map((s) => [s.policy_id, toStanding(s)])),
    dataRequests: new Map(r.requests.map((d) => [d.id, toDataRequest(d)])),
  };
}

/** A subject's current state from the read models (a fresh one for a subject never seen). */
export async function readSubject(client: Queryable, subjectId: string): Promise<SubjectState> {
  const { rows } = await client.query<SubjectStateRow>(
    // Named statements (here and in the views): each connection parses and plans them once.
    {
      name: "ledger_read_subject",
      text: `SELECT ${subjectStateColumns("$1")}
     FROM (SELECT $1::text AS id) x LEFT JOIN subjects s ON s.subject_id = x.id`,
      values: [subjectId],
    },
  );
  return toSubjectState(subjectId, rows[0]!);
}

/** Several subjects' current states in one statement, by id. */
export async function readSubjects(client: Queryable, subjectIds: readonly string[]): Promise<Map<string, SubjectState>> {
  const { rows } = await client.query<SubjectStateRow & { id: string }>(
    `SELECT x.id, ${subjectStateColumns("x.id")} FROM unnest($1::text[]) AS x(id) LEFT JOIN subjects s ON s.subject_id = x.id`,
    [subjectIds],
  );
  return new Map(rows.map((r) => [r.id, toSubjectState(r.id, r)]));
}

/** Active or suspended subjects whose accepted version is below `threshold`, in id order after `after`. */
export async function readPendingReconsent(client: Queryable, policyId: string, threshold: number, after: string, limit: number): Promise<string[]> {
  if (threshold === 0) return [];
  const { rows } = await client.query<{ subject_id: string }>(
    `SELECT s.subject_id FROM subjects s
     LEFT JOIN standings st ON st.subject_id = s.subject_id AND st.policy_id = $1
     WHERE s.status IN ('ACTIVE', 'SUSPENDED') AND COALESCE(st.accepted_version, 0) < $2 AND s.subject_id > $3
     ORDER BY s.subject_id LIMIT $4`,
    [policyId, threshold, after, limit],
  );
  return rows.map((r) => r.subject_id);
}
