// Which purposes' status or permission each consent-affecting event changed, from the domain rules.
import type { AsOf } from "../domain/catalog.js";
import { CONSENT_AFFECTING, type LedgerEvent } from "../domain/events.js";
import { type Decision, type SubjectView, decideAll, viewOf } from "../domain/permission.js";
import { consentKey } from "../domain/subject.js";
import type { Ledger } from "../ledger.js";

/** One (subject, policy, purpose) whose status or `permitted` an event changed. */
export interface ConsentChangeFact {
  event: LedgerEvent;
  /** The change's place among those the event caused, in (policyId, purposeId) order. */
  index: number;
  subjectId: string;
  previous: Decision | null;
  current: Decision;
}

/** Whether an event can change a subject's decisions (and so is read when replaying changes). */
export const isConsentAffecting = (e: LedgerEvent): boolean => e.subjectId !== null && CONSENT_AFFECTING.has(e.type);

/**
 * Every decision of a subject as the ledger knew it when `e` was recorded. The instant is the
 * event's own, not the reader's clock, so replaying the log later yields the very same changes
 * (and the same cursors) as the live feed did.
 */
function decisionsAt(ledger: Ledger, view: SubjectView, e: LedgerEvent): Map<string, Decision> {
  const asOf: AsOf = { at: e.recordedAt, knownAt: e.recordedAt };
  const catalog = ledger.catalogAt(asOf.knownAt);
  const out = new Map<string, Decision>();
  for (const policy of catalog.policies())
    for (const d of decideAll(catalog, view, policy.id, asOf)) {
      const k = consentKey(d.policyId, d.purposeId);
      if (!out.has(k)) out.set(k, d);
    }
  return out;
}

/**
 * The consent changes `events` (in log order, already committed) caused. The state just before and
 * just after each event comes from the bitemporal read models bounded by log position, so the cost
 * does not grow with the subject's history, and is exact even when one commit holds several events
 * of the same subject. `wanted` skips subjects nobody follows.
 */
export async function consentChangesOf(ledger: Ledger, events: readonly LedgerEvent[], wanted?: (subjectId: string) => boolean): Promise<ConsentChangeFact[]> {
  const out: ConsentChangeFact[] = [];
  for (const e of events) {
    if (!isConsentAffecting(e) || (wanted && !wanted(e.subjectId!))) continue;
    const subjectId = e.subjectId!;
    const [viewBefore, viewAfter] = await Promise.all([ledger.viewThrough(subjectId, e.position - 1), ledger.viewThrough(subjectId, e.position)]);
    const before = decisionsAt(ledger, viewOf(viewBefore), e);
    const after = decisionsAt(ledger, viewOf(viewAfter), e);
    const changed = [...after]
      .filter(([k, d]) => {
        const p = before.get(k);
        return !p || p.status !== d.status || p.permitted !== d.permitted;
      })
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    changed.forEach(([k, d], index) => out.push({ event: e, index, subjectId, previous: before.get(k) ?? null, current: d }));
  }
  return out;
}
