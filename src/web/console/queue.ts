// Ordering the request queue and the time-travel fields; pure, so they are tested without a browser.

export interface QueueEntry {
  dueAt: string;
  overdue: boolean;
  openedAt: string;
}

/** Overdue requests first, then by due date (soonest first), then by when they were opened. */
export function sortQueue<T extends QueueEntry>(items: readonly T[]): T[] {
  return [...items].sort(
    (a, b) => Number(b.overdue) - Number(a.overdue) || Date.parse(a.dueAt) - Date.parse(b.dueAt) || Date.parse(a.openedAt) - Date.parse(b.openedAt),
  );
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** An instant as the value of a datetime-local field in this browser's time zone (to the second). */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  // Rounded up to the next second so the instant itself is inside "as of" (the field has no milliseconds).
  if (d.getMilliseconds() > 0) d.setMilliseconds(1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A datetime-local value (local time) as RFC 3339 UTC; null for an empty or unreadable field. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
