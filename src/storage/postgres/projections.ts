// The read models on PostgreSQL: written in the append's transaction, one statement per append,
// and read in one query per question (a subject now, as of an instant, through a position).
import type pg from "pg";
import type { AsOf } from "../../domain/catalog.js";
import type { DataRequestKind, LedgerEvent, Personal } from "../../domain/events.js";
import {
  type Acceptance,
  type ConsentRecord,
  type DataRequestState,
  type DataRequestStatus,
  type SubjectState,
  type SubjectStatus,
  INITIAL_LIFECYCLE,
  LIFECYCLE_EVENTS,
  type Lifecycle,
  consentKey,
  initialSubject,
  nextLifecycle,
} from "../../domain/subject.js";
import type { Instant } from "../../domain/time.js";
import type { DataRequestPage } from "../storage-port.js";

export type { SubjectSnapshot } from "../storage-port.js";
import type { SubjectSnapshot } from "../storage-port.js";

type Queryable = Pick<pg.ClientBase, "query">;

interface ConsentJson {
  policy_id: string;
  purpose_id: string;
  granted: boolean;
  occurred_at: number;
  expires_at: number | null;
  policy_version: number;
  event_id: string;
  position: number;
}
interface AcceptanceJson {
  policy_id: string;
  version: number;
  occurred_at: number;
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

/** The lifecycle columns of the subjects and status_history tables. */
interface LifecycleRow {
  status: SubjectStatus | null;
  suspended_purposes: string | null;
  returned_at: number | string | null;
  merged_into: string | null;
}

const toLifecycle = (r: LifecycleRow | null | undefined): Lifecycle =>
  r && r.status !== null
    ? {
        status: r.status,
        suspendedPurposes: new Set(r.suspended_purposes === null ? [] : (JSON.parse(r.suspended_purposes) as string[])),
        returnedAt: r.returned_at === null ? null : Number(r.returned_at),
        mergedInto: r.merged_into,
      }
    : INITIAL_LIFECYCLE;

/** The lifecycle as its columns hold it (the same encoding as the SQLite adapter's). */
const lifecycleColumns = (l: Lifecycle) => ({
  status: l.status,
  suspended_purposes: l.suspendedPurposes.size > 0 ? JSON.stringify([...l.suspendedPurposes].sort()) : null,
  returned_at: l.returnedAt,
  merged_into: l.mergedInto,
});

const toConsent = (r: ConsentJson): ConsentRecord => ({
  policyId: r.policy_id,
  purposeId: r.purpose_id,
  granted: r.granted,
  occurredAt: r.occurred_at,
  expiresAt: r.expires_at,
  version: r.policy_version,
  eventId: r.event_id,
  position: r.position,
});

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

function snapshot(lifecycle: LifecycleRow | null, acceptances: AcceptanceJson[], consents: ConsentJson[]): SubjectSnapshot {
  const l = toLifecycle(lifecycle);
  return {
    status: l.status,
    suspendedPurposes: l.suspendedPurposes,
    returnedAt: l.returnedAt,
    mergedInto: l.mergedInto,
    acceptances: new Map(acceptances.map((a) => [a.policy_id, { version: a.version, acceptedAt: a.occurred_at, position: a.position }])),
    consents: new Map(consents.map((c) => [consentKey(c.policy_id, c.purpose_id), toConsent(c)])),
  };
}

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

/** Writes the data request rows for their events, in order. */
export async function writeRequests(client: Queryable, events: readonly LedgerEvent[]): Promise<void> {
  for (const e of events) {
    if (e.type === "DataRequestOpened")
      await client.query(
        `INSERT INTO data_requests (id, subject_id, kind, status, opened_at, due_at, closed_at, note, position, purpose_ids)
         VALUES ($1, $2, $3, 'OPEN', $4, $5, NULL, $6, $7, $8)`,
        [
          e.data.requestId,
          e.subjectId,
          e.data.kind,
          e.occurredAt,
          e.data.dueAt,
          e.data.note ? JSON.stringify(e.data.note) : null,
          e.position,
          e.data.purposeIds ? JSON.stringify(e.data.purposeIds) : null,
        ],
      );
    else if (e.type === "DataRequestIdentityVerified")
      await client.query("UPDATE data_requests SET status = 'IDENTITY_VERIFIED', identity_label = $1, position = $2 WHERE id = $3", [
        e.data.label ?? null,
        e.position,
        e.data.requestId,
      ]);
    else if (e.type === "DataRequestClosed")
      await client.query("UPDATE data_requests SET status = $1, closed_at = $2, note = COALESCE($3, note), closing_note = $4, position = $5 WHERE id = $6", [
        e.data.fulfilled ? "FULFILLED" : "REJECTED",
        e.occurredAt,
        e.data.note ? JSON.stringify(e.data.note) : null,
        e.data.officerNote ?? null,
        e.position,
        e.data.requestId,
      ]);
    else if (e.type === "DataRequestExtended")
      await client.query("UPDATE data_requests SET due_at = $1, extended_days = extended_days + $2, position = $3 WHERE id = $4", [e.data.dueAt, e.data.days, e.position, e.data.requestId]);
    else if (e.type === "ConsentExpired") {
      await client.query("INSERT INTO expiry_notes (grant_event_id, subject_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [
        e.data.grantEventId,
        e.subjectId,
        e.position,
      ]);
      await client.query("UPDATE consents SET expiry_noted = true WHERE subject_id = $1 AND policy_id = $2 AND purpose_id = $3 AND event_id = $4", [
        e.subjectId,
        e.data.policyId,
        e.data.purposeId,
        e.data.grantEventId,
      ]);
    } else if (e.type === "ThirdPartyTransferRecorded")
      await client.query(
        `INSERT INTO transfers (id, subject_id, occurred_at, recorded_at, direction, counterparty_id, purpose_id, basis, retain_until, position)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [e.data.transferId, e.subjectId, e.occurredAt, e.recordedAt, e.data.direction, e.data.counterparty.id, e.data.purposeId, e.data.basis, e.data.retainUntil, e.position],
      );
    else if (e.type === "PolicyVersionPublished")
      await client.query(
        `INSERT INTO version_effects (policy_id, version, effective_at, noted_position) VALUES ($1, $2, $3, $4)
         ON CONFLICT (policy_id, version) DO UPDATE SET effective_at = excluded.effective_at, noted_position = excluded.noted_position`,
        [e.data.policyId, e.data.number, e.data.effectiveAt, e.data.effectiveAt <= e.recordedAt ? e.position : null],
      );
    else if (e.type === "PolicyVersionEffective")
      await client.query("UPDATE version_effects SET noted_position = $1 WHERE policy_id = $2 AND version = $3", [e.position, e.data.policyId, e.data.version]);
  }
}

/** Writes the read models for events already in the log (rebuild, copy): statuses read, then one statement. */
export async function projectEvents(client: Queryable, events: readonly LedgerEvent[]): Promise<void> {
  const ids = [...new Set(events.map((e) => e.subjectId).filter((s): s is string => s !== null))];
  const w = projectionWrites(events, await statusesBefore(client, ids));
  await client.query(`WITH ${w.ctes(1)} SELECT ${PROJECTION_COUNTS}`, w.params);
  await writeRequests(client, w.requests);
}

/** A subject's current state from the read models (a fresh one for a subject never seen). */
export async function readSubject(client: Queryable, subjectId: string): Promise<SubjectState> {
  const { rows } = await client.query<{
    status: SubjectStatus | null;
    lifecycle: LifecycleRow | null;
    version: number | null;
    consents: ConsentJson[];
    standings: { policy_id: string; accepted_version: number; accepted_at: number; position: number }[];
    requests: DataRequestRow[];
  }>(
    // Named statements (here and in the other hot reads below): each connection parses and plans them once.
    {
      name: "ledger_read_subject",
      text: `SELECT s.status, s.version,
       (SELECT row_to_json(l) FROM (SELECT status, suspended_purposes, returned_at, merged_into FROM subjects WHERE subject_id = $1) l) AS lifecycle,
       (SELECT COALESCE(json_agg(c), '[]') FROM consents c WHERE c.subject_id = $1) AS consents,
       (SELECT COALESCE(json_agg(st), '[]') FROM standings st WHERE st.subject_id = $1) AS standings,
       (SELECT COALESCE(json_agg(d ORDER BY d.opened_at, d.id), '[]') FROM data_requests d WHERE d.subject_id = $1) AS requests
     FROM (SELECT $1::text AS id) x LEFT JOIN subjects s ON s.subject_id = x.id`,
      values: [subjectId],
    },
  );
  const r = rows[0]!;
  if (r.status === null || r.version === null) return initialSubject(subjectId);
  return {
    id: subjectId,
    version: r.version,
    ...toLifecycle(r.lifecycle),
    consents: new Map(r.consents.map((c) => [consentKey(c.policy_id, c.purpose_id), toConsent(c)])),
    acceptances: new Map(r.standings.map((s) => [s.policy_id, { version: s.accepted_version, acceptedAt: s.accepted_at, position: s.position }])),
    dataRequests: new Map(r.requests.map((d) => [d.id, toDataRequest(d)])),
  };
}

/** The filter a bitemporal lookup uses: facts valid at `at` and known at `knownAt`, or up to a position. */
type Bound = { kind: "asOf"; at: Instant; knownAt: Instant } | { kind: "through"; position: number };

async function boundedView(client: Queryable, subjectId: string, bound: Bound): Promise<SubjectSnapshot> {
  const where = bound.kind === "asOf" ? "occurred_at <= $2 AND recorded_at <= $3" : "position <= $2";
  const params = bound.kind === "asOf" ? [subjectId, bound.at, bound.knownAt] : [subjectId, bound.position];
  const { rows } = await client.query<{ lifecycle: LifecycleRow | null; acceptances: AcceptanceJson[]; consents: ConsentJson[] }>({
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
  const { rows } = await client.query<{ lifecycle: LifecycleRow | null; acceptances: AcceptanceJson[]; consents: ConsentJson[] }>({
    name: "ledger_read_current_view",
    // Lifecycle facts may be dated a little ahead too (a return with a future occurredAt): they are read as of `at`.
    text: `SELECT
       (SELECT row_to_json(l) FROM (SELECT status, suspended_purposes, returned_at, merged_into FROM status_history
          WHERE subject_id = $1 AND occurred_at <= $2 ORDER BY position DESC LIMIT 1) l) AS lifecycle,
       (SELECT COALESCE(json_agg(json_build_object('policy_id', policy_id, 'version', accepted_version, 'occurred_at', accepted_at, 'position', position)), '[]')
          FROM standings WHERE subject_id = $1) AS acceptances,
       (SELECT COALESCE(json_agg(c), '[]') FROM consents c WHERE subject_id = $1) AS consents`,
    values: [subjectId, at],
  });
  const r = rows[0]!;
  const future = r.acceptances.some((a) => a.occurred_at > at) || r.consents.some((c) => c.occurred_at > at);
  if (!future) return snapshot(r.lifecycle, r.acceptances, r.consents);
  const past = await readViewAt(client, subjectId, { at, knownAt: Number.MAX_SAFE_INTEGER });
  return { ...snapshot(r.lifecycle, [], []), acceptances: past.acceptances, consents: past.consents };
}

export async function readDataRequest(client: Queryable, id: string): Promise<DataRequestState | undefined> {
  const { rows } = await client.query<DataRequestRow>("SELECT * FROM data_requests WHERE id = $1", [id]);
  return rows[0] && toDataRequest(rows[0]);
}

/** The officer's queue by (dueAt, id), a page after `page.from`; overdue = still open (or verified) past its due date. */
export async function readDataRequests(
  client: Queryable,
  status: DataRequestStatus | null,
  overdue: boolean | null,
  now: Instant,
  page: DataRequestPage,
): Promise<DataRequestState[]> {
  const open = "status IN ('OPEN', 'IDENTITY_VERIFIED') AND due_at < $2";
  const where = [
    status ? "status = $1" : "$1::text IS NULL",
    overdue === null ? "$2::bigint IS NOT NULL" : overdue ? `(${open})` : `NOT (${open})`,
    "(due_at, id) > ($3::bigint, $4::text)",
  ];
  const { rows } = await client.query<DataRequestRow>(`SELECT * FROM data_requests WHERE ${where.join(" AND ")} ORDER BY due_at, id LIMIT $5`, [
    status,
    now,
    page.from?.dueAt ?? Number.MIN_SAFE_INTEGER,
    page.from?.id ?? "",
    page.first,
  ]);
  return rows.map(toDataRequest);
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

/** Positions of a subject's transfer records with occurredAt in [from, to], oldest first. */
export async function readTransferPositions(client: Queryable, subjectId: string, from: Instant, to: Instant): Promise<number[]> {
  const { rows } = await client.query<{ position: string | number }>(
    "SELECT position FROM transfers WHERE subject_id = $1 AND occurred_at >= $2 AND occurred_at <= $3 ORDER BY occurred_at, position",
    [subjectId, from, to],
  );
  return rows.map((r) => Number(r.position));
}
