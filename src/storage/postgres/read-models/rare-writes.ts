// The read-model writes of the rarer events (data requests, expiries, transfers, publications), one
// statement each, after the append's statement.
import type { LedgerEvent } from "../../../domain/events.js";
import { closedRequestValues, openedRequestValues, transferValues } from "../../read-model-rows.js";
import type { Queryable } from "./queryable.js";

/** Writes the data request rows for their events, in order. */
export async function writeRequests(client: Queryable, events: readonly LedgerEvent[]): Promise<void> {
  for (const e of events) {
    if (e.type === "DataRequestOpened")
      await client.query(
        `INSERT INTO data_requests (id, subject_id, kind, status, opened_at, due_at, closed_at, note, position, purpose_ids)
         VALUES ($1, $2, $3, 'OPEN', $4, $5, NULL, $6, $7, $8)`,
        [...openedRequestValues(e)],
      );
    else if (e.type === "DataRequestIdentityVerified")
      await client.query("UPDATE data_requests SET status = 'IDENTITY_VERIFIED', identity_label = $1, position = $2 WHERE id = $3", [
        e.data.label ?? null,
        e.position,
        e.data.requestId,
      ]);
    else if (e.type === "DataRequestClosed")
      await client.query("UPDATE data_requests SET status = $1, closed_at = $2, note = COALESCE($3, note), closing_note = $4, position = $5 WHERE id = $6", [...closedRequestValues(e)]);
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
        [...transferValues(e)],
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
