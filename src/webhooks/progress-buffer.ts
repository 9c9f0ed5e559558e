// Acknowledged cursors and delivery records, stored in batches at most every flushMs. A restart may
// therefore send a message again (with the same webhook-id), never skip one. A batch the store could
// not take is kept, in front of anything newer, for the next flush.
import type { Logger } from "pino";
import type { DeliveryRecord, WebhookCursor, WebhookStore } from "../storage/webhook-store.js";

export class ProgressBuffer {
  private readonly pending = new Map<string, { cursor: WebhookCursor | null; deliveries: DeliveryRecord[] }>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly store: WebhookStore,
    private readonly holder: string,
    private readonly flushMs: number,
    private readonly log: Logger | undefined,
    /** The store refused a webhook's progress: its lease was lost, or it was deleted. */
    private readonly refused: (id: string) => void,
  ) {}

  add(id: string, cursor: WebhookCursor | null, record: DeliveryRecord): void {
    let p = this.pending.get(id);
    if (!p) this.pending.set(id, (p = { cursor: null, deliveries: [] }));
    if (cursor) p.cursor = cursor;
    // A message's later attempt replaces its earlier one not yet stored.
    const last = p.deliveries.at(-1);
    if (last && last.position === record.position && last.index === record.index) p.deliveries[p.deliveries.length - 1] = record;
    else p.deliveries.push(record);
    this.schedule();
  }

  /** Drops what a deleted webhook has not stored yet. */
  forget(id: string): void {
    this.pending.delete(id);
  }

  /** No flush is scheduled any more (an explicit flush still stores). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.flushMs);
  }

  /** Stores what was acknowledged so far. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending].map(([webhookId, p]) => ({ webhookId, ...p }));
    this.pending.clear();
    this.flushing = (async () => {
      try {
        const refused = await this.store.saveProgress(batch, this.holder);
        for (const id of refused) this.refused(id);
      } catch (e) {
        // Not stored: put it back in front of anything newer, and try again later.
        for (const p of batch) {
          const newer = this.pending.get(p.webhookId);
          this.pending.set(p.webhookId, { cursor: newer?.cursor ?? p.cursor, deliveries: [...p.deliveries, ...(newer?.deliveries ?? [])] });
        }
        this.log?.debug({ err: e }, "storing webhook progress failed (or the database was busy); retrying with the next flush");
        this.schedule();
      } finally {
        this.flushing = null;
      }
    })();
    await this.flushing;
  }
}
