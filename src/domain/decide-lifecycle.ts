// Suspending, resuming, leaving and erasure: the subject's lifecycle commands.
import { checkText, requireActive } from "./checks.js";
import type { DomainEvent } from "./events.js";
import type { SubjectState } from "./subject.js";
import type { Instant } from "./time.js";

/** Suspends every purpose, or with `purposeIds` only those (the subject then stays ACTIVE). */
export function decideSuspend(state: SubjectState, reason: string | null, now: Instant, dataRequestId?: string, purposeIds?: readonly string[] | null): DomainEvent[] {
  requireActive(state);
  checkText("reason", reason);
  if (state.status === "SUSPENDED") return [];
  const scoped = purposeIds && purposeIds.length > 0 ? purposeIds.filter((p) => !state.suspendedPurposes.has(p)) : null;
  if (scoped && scoped.length === 0) return [];
  return [
    {
      type: "ProcessingSuspended",
      occurredAt: now,
      data: { ...(reason ? { reason: { plain: reason } } : {}), ...(dataRequestId ? { dataRequestId } : {}), ...(scoped ? { purposeIds: [...scoped] } : {}) },
    },
  ];
}

export function decideResume(state: SubjectState, now: Instant): DomainEvent[] {
  requireActive(state);
  return state.status === "SUSPENDED" || state.suspendedPurposes.size > 0 ? [{ type: "ProcessingResumed", occurredAt: now, data: {} }] : [];
}

export function decideLeave(state: SubjectState, now: Instant): DomainEvent[] {
  if (state.status === "ERASED" || state.status === "MERGED") requireActive(state);
  return state.status === "LEFT" ? [] : [{ type: "SubjectLeft", occurredAt: now, data: {} }];
}

export function decideErase(state: SubjectState, reason: string | null, now: Instant, dataRequestId?: string): DomainEvent[] {
  checkText("reason", reason);
  if (state.status === "ERASED") return [];
  return [{ type: "SubjectErased", occurredAt: now, data: { ...(reason ? { reason: { plain: reason } } : {}), ...(dataRequestId ? { dataRequestId } : {}) } }];
}
