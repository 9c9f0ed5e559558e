// This replica's leases on webhooks. Where replicas share the database, a lease per webhook (taken and
// renewed in the webhook store) lets one of them at a time deliver it; here is kept until when each
// lease this replica holds lets it start a request.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";

/** A lease is used only while this much of it (at most a tenth of it) is left beyond a request's time-out. */
const LEASE_MARGIN_MS = 1_000;

export class Leases {
  /** This replica's name in the store's leases. */
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Until when (performance.now) this replica may start a request per webhook under its lease. */
  private readonly until = new Map<string, number>();

  constructor(private readonly settings: { readonly leaseMs: number; readonly timeoutMs: number }) {}

  /** The store granted (or renewed) `held`, asked for at `asked` (performance.now). */
  granted(held: Iterable<string>, asked: number): void {
    for (const id of held) this.until.set(id, asked + this.settings.leaseMs);
  }

  /** Whether a request may start now: the lease will outlast its time-out. */
  mayStart(id: string): boolean {
    const until = this.until.get(id);
    const margin = Math.min(LEASE_MARGIN_MS, this.settings.leaseMs / 10);
    return until !== undefined && performance.now() + this.settings.timeoutMs + margin < until;
  }

  /** No request of this webhook starts here any more. */
  drop(id: string): void {
    this.until.delete(id);
  }
}
