// Delivery of one message to one webhook: signed, POSTed to an address checked at every attempt, and
// tried again after the growing delays of the retry schedule until a 2xx answer moves the cursor; a
// 410 Gone, or a failure once the schedule has run out, disables the webhook with the reason.
import type { Logger } from "pino";
import type { ConsentChangeFact } from "../feed/consent-changes.js";
import type { DeliveryRecord, WebhookCursor, WebhookRow } from "../storage/webhook-store.js";
import { type LookupCache, resolveChecked } from "./address-guard.js";
import type { MessagePoster } from "./delivery-thread.js";
import { type DeliveryOutcome, RESUBSCRIBE_MS, type WebhookSettings, wait } from "./delivery-settings.js";
import { messageBody, messageId, signature } from "./message.js";

/** What delivering a message needs of the dispatcher: the sender, the lease, and where progress goes. */
export interface DeliveryHost {
  readonly settings: WebhookSettings;
  readonly sender: MessagePoster;
  readonly lookups: LookupCache;
  readonly log: Logger | undefined;
  readonly onOutcome: ((o: DeliveryOutcome) => void) | undefined;
  /** Whether a request may start now: the lease will outlast its time-out. */
  mayStart(id: string): boolean;
  progress(id: string, cursor: WebhookCursor | null, record: DeliveryRecord): void;
  disable(id: string, reason: string, record: DeliveryRecord): Promise<void>;
}

const describe = (status: number | null, error: string | null): string => (status !== null ? `HTTP ${status}` : (error ?? "no answer"));

/**
 * Delivers `fact` to the webhook `row`, resuming from `earlier` (its stored attempts) if given.
 * True once acknowledged; false when the loop must stop (disabled, lease lost, stopped).
 */
export async function deliverMessage(d: DeliveryHost, row: WebhookRow, secret: Buffer, stop: AbortSignal, fact: ConsentChangeFact, earlier: DeliveryRecord | null): Promise<boolean> {
  const { settings } = d;
  const position = fact.event.position;
  const id = messageId(row.id, position, fact.index);
  const body = messageBody(fact);
  const url = new URL(row.url);
  let attempts = earlier?.attempts ?? 0;
  if (earlier?.nextAttemptAt != null) await wait(Math.max(0, earlier.nextAttemptAt - Date.now()), stop);
  for (;;) {
    if (stop.aborted) return false;
    // Without a lease that outlasts a request (the database unreachable for renewals), wait: the
    // next renewal extends it, or finds it taken by another replica and stops this loop.
    if (!d.mayStart(row.id)) {
      await wait(RESUBSCRIBE_MS, stop);
      continue;
    }
    const at = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    let outcome: DeliveryOutcome;
    try {
      const [to] = await resolveChecked(url, settings, d.lookups);
      const ts = Math.floor(at / 1000);
      const headers = { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature(secret, id, ts, body) };
      ({ status, error } = await d.sender.post(url, to!, headers, body, stop));
      outcome = status === null ? (error?.startsWith("no answer") ? "timeout" : "unreachable") : status >= 200 && status < 300 ? "delivered" : status === 410 ? "gone" : "failed";
    } catch (e) {
      error = (e as Error).message;
      outcome = "refused";
    }
    if (stop.aborted) return false;
    attempts++;
    d.onOutcome?.(outcome);
    const record: DeliveryRecord = {
      webhookId: row.id,
      position,
      index: fact.index,
      state: "DELIVERED",
      attempts,
      lastStatus: status,
      lastError: error,
      lastAttemptAt: at,
      nextAttemptAt: null,
    };
    if (outcome === "delivered") {
      d.progress(row.id, { position, index: fact.index }, record);
      return true;
    }
    if (outcome === "gone") {
      await d.disable(row.id, `the receiver answered 410 Gone to ${id}`, { ...record, state: "FAILED" });
      return false;
    }
    if (attempts > settings.retryDelaysMs.length) {
      const since = new Date(at - settings.retryDelaysMs.reduce((a, b) => a + b, 0)).toISOString();
      await d.disable(row.id, `no 2xx answer to ${id} after ${attempts} attempts since ${since} (last: ${describe(status, error)})`, { ...record, state: "FAILED" });
      return false;
    }
    const delay = settings.retryDelaysMs[attempts - 1]!;
    d.progress(row.id, null, { ...record, state: "PENDING", nextAttemptAt: at + delay });
    d.log?.info({ webhookId: row.id, messageId: id, attempts, status, error, retryInMs: delay }, "webhook delivery failed; trying again later");
    await wait(delay, stop);
  }
}
