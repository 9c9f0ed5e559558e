// The wake-up other replicas' change pumps get after a commit.
import type pg from "pg";

/** The channel every commit notifies; its payload is the commit's last position (a wake-up only). */
export const NOTIFY_CHANNEL = "ledger_events";

/**
 * Wakes the other replicas' pumps after a commit. Sent outside the write transaction and coalesced
 * (one in flight, then one more for the highest position since), because a NOTIFY inside the
 * transaction makes its commit take a cluster-wide lock. A lost wake-up costs only latency: every
 * pump also polls.
 */
export class CommitNotifier {
  private wanted = 0;
  private sending = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly closed: () => boolean,
  ) {}

  notify(position: number): void {
    this.wanted = Math.max(this.wanted, position);
    if (this.sending) return;
    this.sending = true;
    const send = (): void => {
      const p = this.wanted;
      this.pool.query("SELECT pg_notify($1, $2)", [NOTIFY_CHANNEL, String(p)]).then(
        () => {
          if (this.wanted > p && !this.closed()) send();
          else this.sending = false;
        },
        () => {
          this.sending = false;
        },
      );
    };
    send();
  }
}
