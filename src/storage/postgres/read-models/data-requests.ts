// Data requests: one by id, and the officers' queue in pages.
import type { DataRequestState, DataRequestStatus } from "../../../domain/subject.js";
import type { Instant } from "../../../domain/time.js";
import type { DataRequestPage } from "../../storage-port.js";
import { type DataRequestRow, toDataRequest } from "../../read-model-rows.js";
import type { Queryable } from "./queryable.js";

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
