// What webhook delivery is told (its settings), what it reports (outcomes and reads), and the one
// way its loops pause: a wait that a stop ends at once.
import type { AddressPolicy } from "./address-guard.js";

export interface WebhookSettings extends AddressPolicy {
  /** Delays between attempts of one message; once used up, the next failure disables the webhook. */
  retryDelaysMs: readonly number[];
  timeoutMs: number;
  concurrencyPerReceiver: number;
  /** How long a replica's lease on a webhook lasts unless renewed (renewed at a quarter of it). */
  leaseMs: number;
  /** How often acknowledged cursors and delivery records are stored (at most). */
  flushMs: number;
  /** WEBHOOK_DELIVERY_THREAD: the HTTP exchanges run on a thread of their own rather than the API's event loop. */
  deliveryThread?: boolean;
}

export type DeliveryOutcome = "delivered" | "failed" | "timeout" | "unreachable" | "refused" | "gone";

/** What the webhooks' reader read: a commit's changes for the shared stream, or a page of one webhook's backlog. */
export type FeedRead = "commit" | "page";

/** Pause before following the feed again after it failed (the feed ended a slow reader, or the store went away). */
export const RESUBSCRIBE_MS = 200;

export const wait = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
