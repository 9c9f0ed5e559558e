// mergeSubjects: several identifiers of one person (a device id, then an account) become one subject.
import { requireActive } from "./checks.js";
import { badInput } from "./errors.js";
import type { DomainEvent } from "./events.js";
import type { SubjectState } from "./subject.js";
import type { Instant } from "./time.js";

/**
 * The events of a merge. `into` receives copies of `from`'s current choices and acceptances with
 * their own valid times, so the fold's last-writer-wins rule makes the later choice per purpose win;
 * only those that would change `into` are copied. `from` records that it was merged.
 */
export function decideMerge(from: SubjectState, into: SubjectState, now: Instant): { fromEvents: DomainEvent[]; intoEvents: DomainEvent[] } {
  if (from.id === into.id) throw badInput("a subject cannot be merged into itself");
  requireActive(from);
  requireActive(into);
  if (from.version === 0) throw badInput("the subject to merge from has no history");
  const intoEvents: DomainEvent[] = [];
  for (const [policyId, a] of from.acceptances) {
    const mine = into.acceptances.get(policyId);
    if (!mine || a.version > mine.version)
      intoEvents.push({ type: "PolicyAccepted", occurredAt: a.acceptedAt, data: { policyId, version: a.version, mergedFrom: from.id } });
  }
  for (const [key, c] of from.consents) {
    // Grants from before a return after leaving no longer count for `from`, so they are not carried over.
    if (c.granted && from.returnedAt !== null && c.occurredAt < from.returnedAt) continue;
    const mine = into.consents.get(key);
    if (mine && mine.occurredAt >= c.occurredAt) continue;
    const base = { policyId: c.policyId, version: c.version, purposeId: c.purposeId, mergedFrom: from.id };
    intoEvents.push(
      c.granted
        ? { type: "ConsentGranted", occurredAt: c.occurredAt, data: { ...base, expiresAt: c.expiresAt } }
        : { type: "ConsentWithdrawn", occurredAt: c.occurredAt, data: base },
    );
  }
  return { fromEvents: [{ type: "SubjectMerged", occurredAt: now, data: { into: into.id } }], intoEvents };
}
