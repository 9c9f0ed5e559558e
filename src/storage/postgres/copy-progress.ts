// The progress line `migrate-sqlite-to-postgres` prints while copying.

export interface CopyProgress {
  copied: number;
  total: number;
  elapsedMs: number;
}

const seconds = (s: number): string => (s < 90 ? `${Math.ceil(s)} s` : `${Math.ceil(s / 60)} min`);

/** "copied 12,000 of 100,000 events (12%), 8,400 events/s, about 11 s left". */
export function formatCopyProgress({ copied, total, elapsedMs }: CopyProgress): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const pct = total === 0 ? 100 : Math.floor((copied / total) * 100);
  const rate = elapsedMs > 0 ? (copied * 1000) / elapsedMs : 0;
  const left = copied >= total ? "done" : rate > 0 ? `about ${seconds((total - copied) / rate)} left` : "estimating the time left";
  return `copied ${n(copied)} of ${n(total)} events (${pct}%), ${n(Math.round(rate))} events/s, ${left}`;
}
