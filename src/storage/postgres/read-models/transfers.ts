// Third-party transfers of a subject, by the instant they happened.
import type { Instant } from "../../../domain/time.js";
import type { Queryable } from "./queryable.js";

/** Positions of a subject's transfer records with occurredAt in [from, to], oldest first. */
export async function readTransferPositions(client: Queryable, subjectId: string, from: Instant, to: Instant): Promise<number[]> {
  const { rows } = await client.query<{ position: string | number }>(
    "SELECT position FROM transfers WHERE subject_id = $1 AND occurred_at >= $2 AND occurred_at <= $3 ORDER BY occurred_at, position",
    [subjectId, from, to],
  );
  return rows.map((r) => Number(r.position));
}
