// Webhook registrations, delivery progress and leases in PostgreSQL, shared by every replica. A
// lease row (holder, expiry) says which replica delivers a webhook; progress is stored only under an
// unexpired lease, so a replica that lost its lease cannot move a cursor the new holder owns.
import type pg from "pg";
import type { DeliveryRecord, WebhookProgress, WebhookRow, WebhookStore } from "../webhook-store.js";
import { type DeliveryColumns, type WebhookColumns, toDelivery, toWebhook, webhookColumns } from "../webhook-rows.js";
import type { PostgresStore } from "./postgres-store.js";

const WHOLE_EVENT = 2_147_483_647;

/** True while `holder` holds an unexpired lease on the webhook $1 (the holder is $2). */
const HELD = "EXISTS (SELECT 1 FROM webhook_leases l WHERE l.webhook_id = $1 AND l.holder = $2 AND l.expires_at > clock_timestamp())";

export class PgWebhookStore implements WebhookStore {
  constructor(private readonly store: PostgresStore) {}

  private tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.store.transaction(fn);
  }

  async create(w: WebhookRow): Promise<void> {
    await this.store.read(
      `INSERT INTO webhooks (id, url, description, policy_id, purpose_ids, secret, enabled, disabled_reason, created_at, cursor_position, cursor_index)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      Object.values(webhookColumns(w, (on) => on)),
    );
  }

  async list(): Promise<WebhookRow[]> {
    return (await this.store.read<WebhookColumns>("SELECT * FROM webhooks ORDER BY created_at, id")).rows.map(toWebhook);
  }

  async get(id: string): Promise<WebhookRow | null> {
    const r = (await this.store.read<WebhookColumns>("SELECT * FROM webhooks WHERE id = $1", [id])).rows[0];
    return r ? toWebhook(r) : null;
  }

  async delete(id: string): Promise<boolean> {
    return ((await this.store.read("DELETE FROM webhooks WHERE id = $1", [id])).rowCount ?? 0) > 0;
  }

  async saveProgress(progress: readonly WebhookProgress[], holder: string): Promise<Set<string>> {
    if (progress.length === 0) return new Set();
    return this.tx(async (c) => {
      const refused = new Set<string>();
      for (const p of progress) {
        // One row per message: a batch may hold a message's failed attempt and its later success.
        const deliveries = [...new Map(p.deliveries.map((d) => [`${d.position}/${d.index}`, d])).values()];
        const held = await c.query(`SELECT 1 FROM webhooks WHERE id = $1 AND ${HELD} FOR UPDATE`, [p.webhookId, holder]);
        if (held.rowCount === 0) {
          refused.add(p.webhookId);
          continue;
        }
        if (p.cursor)
          await c.query(
            `UPDATE webhooks SET cursor_position = $2, cursor_index = $3
             WHERE id = $1 AND (cursor_position < $2 OR (cursor_position = $2 AND COALESCE(cursor_index, ${WHOLE_EVENT}) < $4))`,
            [p.webhookId, p.cursor.position, p.cursor.index, p.cursor.index ?? WHOLE_EVENT],
          );
        if (deliveries.length > 0)
          await c.query(
            `INSERT INTO webhook_deliveries (webhook_id, position, idx, state, attempts, last_status, last_error, last_attempt_at, next_attempt_at)
             SELECT $1, * FROM unnest($2::bigint[], $3::int[], $4::text[], $5::int[], $6::int[], $7::text[], $8::bigint[], $9::bigint[])
             ON CONFLICT (webhook_id, position, idx) DO UPDATE SET state = excluded.state, attempts = excluded.attempts,
               last_status = excluded.last_status, last_error = excluded.last_error, last_attempt_at = excluded.last_attempt_at,
               next_attempt_at = excluded.next_attempt_at`,
            [
              p.webhookId,
              deliveries.map((d) => d.position),
              deliveries.map((d) => d.index),
              deliveries.map((d) => d.state),
              deliveries.map((d) => d.attempts),
              deliveries.map((d) => d.lastStatus),
              deliveries.map((d) => d.lastError),
              deliveries.map((d) => d.lastAttemptAt),
              deliveries.map((d) => d.nextAttemptAt),
            ],
          );
      }
      return refused;
    });
  }

  async disable(id: string, reason: string, holder: string): Promise<void> {
    await this.store.read(`UPDATE webhooks SET enabled = false, disabled_reason = $3 WHERE id = $1 AND ${HELD}`, [id, holder, reason]);
  }

  async deliveries(id: string, first: number, before: { position: number; index: number } | null): Promise<DeliveryRecord[]> {
    const { rows } = before
      ? await this.store.read<DeliveryColumns>(
          "SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND (position, idx) < ($2, $3) ORDER BY position DESC, idx DESC LIMIT $4",
          [id, before.position, before.index, first],
        )
      : await this.store.read<DeliveryColumns>("SELECT * FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY position DESC, idx DESC LIMIT $2", [id, first]);
    return rows.map(toDelivery);
  }

  async pending(id: string): Promise<DeliveryRecord | null> {
    const r = (await this.store.read<DeliveryColumns>("SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND state = 'PENDING' ORDER BY position, idx LIMIT 1", [id]))
      .rows[0];
    return r ? toDelivery(r) : null;
  }

  async acquireLeases(holder: string, ids: readonly string[], ttlMs: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.store.read<{ webhook_id: string }>(
      `INSERT INTO webhook_leases (webhook_id, holder, expires_at)
       SELECT id, $1, clock_timestamp() + $2 * interval '1 millisecond' FROM webhooks WHERE enabled AND id = ANY($3::text[])
       ON CONFLICT (webhook_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE webhook_leases.holder = excluded.holder OR webhook_leases.expires_at < clock_timestamp()
       RETURNING webhook_id`,
      [holder, ttlMs, [...ids]],
    );
    return new Set(rows.map((r) => r.webhook_id));
  }

  async releaseLeases(holder: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.store.read("DELETE FROM webhook_leases WHERE holder = $1 AND webhook_id = ANY($2::text[])", [holder, [...ids]]);
  }

  async prune(keep: number): Promise<void> {
    await this.store.read(
      `DELETE FROM webhook_deliveries d USING (
         SELECT w.id, (SELECT position FROM webhook_deliveries x WHERE x.webhook_id = w.id ORDER BY position DESC, idx DESC OFFSET $1 LIMIT 1) AS floor
         FROM webhooks w) f
       WHERE d.webhook_id = f.id AND f.floor IS NOT NULL AND d.position < f.floor AND d.state = 'DELIVERED'`,
      [keep],
    );
  }

  async close(): Promise<void> {}
}
