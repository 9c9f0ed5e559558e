// The webhook tables' rows as both adapters read them, and their mapping to the store's records.
// SQLite hands back integers and 0/1; PostgreSQL hands back BIGINT as strings and booleans.
import type { DeliveryRecord, WebhookRow } from "./webhook-store.js";

type Int = number | string;

/** A row of the webhooks table. */
export interface WebhookColumns {
  id: string;
  url: string;
  description: string | null;
  policy_id: string | null;
  purpose_ids: string | null;
  secret: Buffer;
  enabled: number | boolean;
  disabled_reason: string | null;
  created_at: Int;
  cursor_position: Int;
  cursor_index: number | null;
}

/** A row of the webhook_deliveries table. */
export interface DeliveryColumns {
  webhook_id: string;
  position: Int;
  idx: number;
  state: DeliveryRecord["state"];
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  last_attempt_at: Int | null;
  next_attempt_at: Int | null;
}

const num = (v: Int | null): number | null => (v === null ? null : Number(v));

export const toWebhook = (r: WebhookColumns): WebhookRow => ({
  id: r.id,
  url: r.url,
  description: r.description,
  policyId: r.policy_id,
  purposeIds: r.purpose_ids === null ? null : (JSON.parse(r.purpose_ids) as string[]),
  secret: r.secret,
  enabled: r.enabled === true || r.enabled === 1,
  disabledReason: r.disabled_reason,
  createdAt: Number(r.created_at),
  cursor: { position: Number(r.cursor_position), index: r.cursor_index },
});

export const toDelivery = (r: DeliveryColumns): DeliveryRecord => ({
  webhookId: r.webhook_id,
  position: Number(r.position),
  index: r.idx,
  state: r.state,
  attempts: r.attempts,
  lastStatus: r.last_status,
  lastError: r.last_error,
  lastAttemptAt: num(r.last_attempt_at),
  nextAttemptAt: num(r.next_attempt_at),
});

/** The webhooks table's columns for a registration (purpose ids as JSON); `enabled` in the adapter's own encoding. */
export const webhookColumns = <E>(w: WebhookRow, enabled: (on: boolean) => E) => ({
  id: w.id,
  url: w.url,
  description: w.description,
  policy_id: w.policyId,
  purpose_ids: w.purposeIds === null ? null : JSON.stringify(w.purposeIds),
  secret: w.secret,
  enabled: enabled(w.enabled),
  disabled_reason: w.disabledReason,
  created_at: w.createdAt,
  cursor_position: w.cursor.position,
  cursor_index: w.cursor.index,
});
