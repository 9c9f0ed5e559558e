// What the console can say of a subject at an instant from its history alone: the events known by then
// and the status they leave (the API's subject status is always today's).

export interface TimedEvent {
  type: string;
  occurredAt: string;
  recordedAt: string;
  data: unknown;
}

export interface PointInTime<E> {
  /** The events that had happened by `at` and were recorded by `knownAt`, in history order. */
  known: E[];
  status: "ACTIVE" | "SUSPENDED" | "LEFT" | "ERASED" | "MERGED";
}

const before = (iso: string, limit: string | null) => limit === null || Date.parse(iso) <= Date.parse(limit);

/** Whether an event belongs to the state as of (at, knownAt); null means "now" for either. */
export const isKnownAt = (e: TimedEvent, at: string | null, knownAt: string | null): boolean => before(e.occurredAt, at) && before(e.recordedAt, knownAt);

export function pointInTime<E extends TimedEvent>(events: readonly E[], at: string | null, knownAt: string | null): PointInTime<E> {
  const known = events.filter((e) => isKnownAt(e, at, knownAt));
  let status: PointInTime<E>["status"] = "ACTIVE";
  for (const e of known) {
    const d = (typeof e.data === "object" && e.data !== null ? e.data : {}) as { purposeIds?: unknown };
    if (status === "ERASED" || status === "MERGED") break;
    if (e.type === "SubjectLeft") status = "LEFT";
    else if (e.type === "SubjectReturned") status = "ACTIVE";
    else if (e.type === "SubjectErased") status = "ERASED";
    else if (e.type === "SubjectMerged") status = "MERGED";
    else if (e.type === "ProcessingSuspended" && !(Array.isArray(d.purposeIds) && d.purposeIds.length > 0) && status === "ACTIVE") status = "SUSPENDED";
    else if (e.type === "ProcessingResumed" && status === "SUSPENDED") status = "ACTIVE";
  }
  return { known, status };
}
