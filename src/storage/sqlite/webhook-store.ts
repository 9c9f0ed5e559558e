// Webhook registrations and delivery progress in the ledger's SQLite file. One process owns a SQLite
// ledger, so a lease is always this process's. Writes run on a connection of their own, apart from
// the writer thread's: they are small (one transaction per progress flush, not per message) and wait
// for the ledger's commits through the busy timeout rather than slowing them.
import Database from "better-sqlite3";
import type { DeliveryRecord, WebhookCursor, WebhookProgress, WebhookRow, WebhookStore } from "../webhook-store.js";
import { type DeliveryColumns, type WebhookColumns, toDelivery, toWebhook, webhookColumns } from "../webhook-rows.js";

/**
 * How long a progress write waits for the writer thread's commit to release the database (better-sqlite3
 * waits synchronously, holding up the event loop): briefly; a busy database fails the write, which is
 * tried again with the next flush. Registering or deleting a webhook waits as long as it must.
 */
const PROGRESS_BUSY_MS = 2;
const ADMIN_BUSY_MS = 5_000;

/** A cursor as one comparable number pair; a whole event (index null) comes after each of its changes. */
const cursorIndex = (c: WebhookCursor): number => c.index ?? Number.MAX_SAFE_INTEGER;

export class SqliteWebhookStore implements WebhookStore {
  private prepared: ReturnType<SqliteWebhookStore["prepare"]> | null = null;

  /** `db`: a connection of its own on a file, or the one connection of an in-memory database (`shared`). */
  constructor(
    private readonly db: Database.Database,
    private readonly shared: boolean,
  ) {
    if (!shared) {
      db.pragma("journal_mode = WAL");
      db.pragma(`busy_timeout = ${PROGRESS_BUSY_MS}`);
      db.pragma("foreign_keys = ON");
    }
  }

  /** Prepared on first use: a read-only file older than the webhook tables opens without them. */
  private get stmts() {
    return (this.prepared ??= this.prepare(this.db));
  }

  private prepare(db: Database.Database) {
    return {
      insert: db.prepare(
        `INSERT INTO webhooks (id, url, description, policy_id, purpose_ids, secret, enabled, disabled_reason, created_at, cursor_position, cursor_index)
         VALUES (@id, @url, @description, @policy_id, @purpose_ids, @secret, @enabled, @disabled_reason, @created_at, @cursor_position, @cursor_index)`,
      ),
      list: db.prepare("SELECT * FROM webhooks ORDER BY created_at, id"),
      get: db.prepare("SELECT * FROM webhooks WHERE id = ?"),
      deleteDeliveries: db.prepare("DELETE FROM webhook_deliveries WHERE webhook_id = ?"),
      delete: db.prepare("DELETE FROM webhooks WHERE id = ?"),
      // Forward only: a cursor never goes back, whatever order flushes land in.
      advance: db.prepare(
        `UPDATE webhooks SET cursor_position = @position, cursor_index = @index
         WHERE id = @id AND (cursor_position < @position OR (cursor_position = @position AND COALESCE(cursor_index, ${Number.MAX_SAFE_INTEGER}) < @cmp))`,
      ),
      exists: db.prepare("SELECT 1 FROM webhooks WHERE id = ?").pluck(),
      putDelivery: db.prepare(
        `INSERT INTO webhook_deliveries (webhook_id, position, idx, state, attempts, last_status, last_error, last_attempt_at, next_attempt_at)
         VALUES (@webhookId, @position, @index, @state, @attempts, @lastStatus, @lastError, @lastAttemptAt, @nextAttemptAt)
         ON CONFLICT (webhook_id, position, idx) DO UPDATE SET state = excluded.state, attempts = excluded.attempts,
           last_status = excluded.last_status, last_error = excluded.last_error, last_attempt_at = excluded.last_attempt_at,
           next_attempt_at = excluded.next_attempt_at`,
      ),
      disable: db.prepare("UPDATE webhooks SET enabled = 0, disabled_reason = ? WHERE id = ?"),
      deliveries: db.prepare("SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY position DESC, idx DESC LIMIT ?"),
      deliveriesBefore: db.prepare(
        "SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND (position < ? OR (position = ? AND idx < ?)) ORDER BY position DESC, idx DESC LIMIT ?",
      ),
      pending: db.prepare("SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND state = 'PENDING' ORDER BY position, idx LIMIT 1"),
      enabledIds: db.prepare("SELECT id FROM webhooks WHERE enabled = 1").pluck(),
      prune: db.prepare(
        `DELETE FROM webhook_deliveries WHERE state = 'DELIVERED' AND webhook_id = @id AND position < COALESCE(
           (SELECT position FROM webhook_deliveries WHERE webhook_id = @id ORDER BY position DESC, idx DESC LIMIT 1 OFFSET @keep), -1)`,
      ),
    };
  }

  /** Creation and deletion are durable before they are answered; progress may lose its last flush to a power cut (messages are then sent again). */
  private durable<T>(fn: () => T): T {
    if (this.shared) return this.db.transaction(fn).immediate();
    this.db.pragma("synchronous = FULL");
    this.db.pragma(`busy_timeout = ${ADMIN_BUSY_MS}`);
    try {
      return this.db.transaction(fn).immediate();
    } finally {
      this.db.pragma("synchronous = NORMAL");
      this.db.pragma(`busy_timeout = ${PROGRESS_BUSY_MS}`);
    }
  }

  async create(w: WebhookRow): Promise<void> {
    this.durable(() =>
      this.stmts.insert.run(webhookColumns(w, (on) => (on ? 1 : 0))),
    );
  }

  async list(): Promise<WebhookRow[]> {
    return (this.stmts.list.all() as WebhookColumns[]).map(toWebhook);
  }

  async get(id: string): Promise<WebhookRow | null> {
    const r = this.stmts.get.get(id) as WebhookColumns | undefined;
    return r ? toWebhook(r) : null;
  }

  async delete(id: string): Promise<boolean> {
    return this.durable(() => {
      this.stmts.deleteDeliveries.run(id);
      return this.stmts.delete.run(id).changes > 0;
    });
  }

  async saveProgress(progress: readonly WebhookProgress[], _holder: string): Promise<Set<string>> {
    const refused = new Set<string>();
    this.db
      .transaction(() => {
        for (const p of progress) {
          if (this.stmts.exists.get(p.webhookId) === undefined) {
            refused.add(p.webhookId);
            continue;
          }
          if (p.cursor) this.stmts.advance.run({ id: p.webhookId, position: p.cursor.position, index: p.cursor.index, cmp: cursorIndex(p.cursor) });
          for (const d of p.deliveries) this.stmts.putDelivery.run(d);
        }
      })
      .immediate();
    return refused;
  }

  async disable(id: string, reason: string, _holder: string): Promise<void> {
    this.durable(() => this.stmts.disable.run(reason, id));
  }

  async deliveries(id: string, first: number, before: { position: number; index: number } | null): Promise<DeliveryRecord[]> {
    const rows = before
      ? (this.stmts.deliveriesBefore.all(id, before.position, before.position, before.index, first) as DeliveryColumns[])
      : (this.stmts.deliveries.all(id, first) as DeliveryColumns[]);
    return rows.map(toDelivery);
  }

  async pending(id: string): Promise<DeliveryRecord | null> {
    const r = this.stmts.pending.get(id) as DeliveryColumns | undefined;
    return r ? toDelivery(r) : null;
  }

  async acquireLeases(_holder: string, ids: readonly string[]): Promise<Set<string>> {
    const enabled = new Set(this.stmts.enabledIds.all() as string[]);
    return new Set(ids.filter((id) => enabled.has(id)));
  }

  async releaseLeases(): Promise<void> {}

  async prune(keep: number): Promise<void> {
    const ids = this.stmts.enabledIds.all() as string[];
    this.db.transaction(() => {
      for (const id of ids) this.stmts.prune.run({ id, keep });
    })();
  }

  async close(): Promise<void> {
    if (!this.shared && this.db.open) this.db.close();
  }
}

/** The store on its own connection to `path`, or on `shared` (an in-memory database's only connection). */
export function openSqliteWebhookStore(path: string, shared: Database.Database | null): SqliteWebhookStore {
  if (shared) return new SqliteWebhookStore(shared, true);
  const db = new Database(path);
  db.pragma("synchronous = NORMAL");
  return new SqliteWebhookStore(db, false);
}
