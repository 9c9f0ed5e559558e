// Instants are epoch milliseconds inside the ledger; RFC 3339 strings only at the edges.

export type Instant = number;

export const DAY_MS = 86_400_000;

/** RFC 3339 in UTC with milliseconds, e.g. 2023-06-15T15:00:00.000Z. */
export const toIso = (t: Instant): string => new Date(t).toISOString();

/** Parses an RFC 3339 date-time with an explicit offset; undefined when it is not one. */
export function parseRfc3339(s: string): Instant | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return undefined;
  const t = Date.parse(s.replace(/(\.\d{3})\d+/, "$1"));
  if (!Number.isFinite(t)) return undefined;
  // Date.parse rolls 2023-02-30 over to March; refuse such dates.
  const [, y, mo, d] = m;
  const local = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (local.getUTCMonth() !== Number(mo) - 1 || local.getUTCDate() !== Number(d)) return undefined;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return undefined;
  return t;
}
