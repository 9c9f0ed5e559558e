// Instants are epoch milliseconds inside the ledger; RFC 3339 strings only at the edges.

export type Instant = number;

export const DAY_MS = 86_400_000;

/** RFC 3339 in UTC with milliseconds, e.g. 2023-06-15T15:00:00.000Z. */
export const toIso = (t: Instant): string => new Date(t).toISOString();

/** Members of event data that hold instants (epoch ms inside). */
const EVENT_DATA_INSTANTS = new Set(["expiresAt", "effectiveAt", "dueAt"]);

/** Event data with its instants as RFC 3339, as every edge shows them (the API, a subject's export). */
export function withIsoInstants(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) out[k] = EVENT_DATA_INSTANTS.has(k) && typeof v === "number" ? toIso(v) : v;
  return out;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const isLeapYear = (year: number): boolean => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** The number of days in a month (1–12) of a year. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Parses an RFC 3339 date-time with an explicit offset; undefined when it is not one. Every field is
 * range-checked (no rolling 2023-02-30 over to March, no 24:00, no leap second); fractions beyond
 * the millisecond are truncated.
 */
export function parseRfc3339(s: string): Instant | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const offsetHours = Number(m[9] ?? 0);
  const offsetMinutes = Number(m[10] ?? 0);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const millis = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  // setUTCFullYear, unlike Date.UTC, does not read years 0–99 as 1900–1999.
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, second, millis);
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000;
  return local.getTime() - (m[8] === "-" ? -offsetMs : offsetMs);
}
