// A subject's whole record as one JSON document: the answer to a disclosure request.
import type { Ledger } from "../ledger.js";
import { toIso } from "../domain/time.js";
import { encodePosition } from "../graphql/cursor.js";

export function buildSubjectExport(ledger: Ledger, subjectId: string): Record<string, unknown> {
  const now = ledger.now();
  const state = ledger.subject(subjectId);
  const events = ledger.history(subjectId, 0, Number.MAX_SAFE_INTEGER);
  return {
    subjectId,
    generatedAt: toIso(now),
    status: state.status,
    version: state.version,
    events: events.map((e) => ({
      id: e.id,
      position: encodePosition(e.position),
      type: e.type,
      occurredAt: toIso(e.occurredAt),
      recordedAt: toIso(e.recordedAt),
      actor: e.actor,
      data: ledger.reveal(e),
      hash: e.hash,
    })),
  };
}
