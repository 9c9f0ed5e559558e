// What webhook delivery needs from a database: the registrations, each one's acknowledged cursor,
// the record of its deliveries, and (where several replicas share the database) a lease per webhook.
// The messages themselves are not stored: they are the ledger's consent changes, read again by position.
import type { Instant } from "../domain/time.js";

export interface WebhookCursor {
  position: number;
  /** Index of the last change seen within the event at `position`; null: all of that event's changes. */
  index: number | null;
}

export interface WebhookRow {
  id: string;
  url: string;
  description: string | null;
  policyId: string | null;
  purposeIds: string[] | null;
  /** The signing secret, wrapped under the evidence key-encryption key (never stored plain). */
  secret: Buffer;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: Instant;
  /** Every change up to here is acknowledged by the receiver. */
  cursor: WebhookCursor;
}

export type DeliveryState = "PENDING" | "DELIVERED" | "FAILED";

/** One message to one webhook: the change at (position, index), and how its attempts went. */
export interface DeliveryRecord {
  webhookId: string;
  position: number;
  index: number;
  state: DeliveryState;
  attempts: number;
  /** The HTTP status of the last attempt; null when it got no answer (time-out, refused connection). */
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: Instant | null;
  /** When the next attempt is due (PENDING only). */
  nextAttemptAt: Instant | null;
}

/** Progress of one webhook to store: its new cursor (if it moved) and deliveries to record. */
export interface WebhookProgress {
  webhookId: string;
  cursor: WebhookCursor | null;
  deliveries: DeliveryRecord[];
}

export interface WebhookStore {
  create(row: WebhookRow): Promise<void>;
  /** Every webhook, oldest first. */
  list(): Promise<WebhookRow[]>;
  get(id: string): Promise<WebhookRow | null>;
  /** Removes the webhook, its deliveries and its lease; false when there was none. */
  delete(id: string): Promise<boolean>;
  /**
   * Stores progress in one transaction. With a `holder`, a webhook's progress is stored only while
   * that holder's lease on it is unexpired, and a cursor only moves forward; returns the ids whose
   * progress was refused (lease lost, or webhook deleted).
   */
  saveProgress(progress: readonly WebhookProgress[], holder: string): Promise<Set<string>>;
  /** Stops a webhook for good, with the reason; under the holder's lease like saveProgress. */
  disable(id: string, reason: string, holder: string): Promise<void>;
  /** A webhook's deliveries, newest first, those strictly before `before` (position, index) when given. */
  deliveries(id: string, first: number, before: { position: number; index: number } | null): Promise<DeliveryRecord[]>;
  /** The delivery still pending at the head of a webhook's queue (its attempts so far), if any. */
  pending(id: string): Promise<DeliveryRecord | null>;
  /**
   * Takes or renews leases on enabled webhooks among `ids` for `holder`, for `ttlMs`: a lease held
   * by another holder is taken only once it has expired. Returns the ids `holder` now holds.
   */
  acquireLeases(holder: string, ids: readonly string[], ttlMs: number): Promise<Set<string>>;
  releaseLeases(holder: string, ids: readonly string[]): Promise<void>;
  /** Deletes delivered records beyond the newest `keep` of each webhook. */
  prune(keep: number): Promise<void>;
  close(): Promise<void>;
}
