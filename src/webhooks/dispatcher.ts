// Delivers each webhook's consent changes, in position order, at least once. The ledger's log is the
// outbox (durable, ordered, written by the very commit that made the change). One reader per replica
// follows the commits for every webhook this replica delivers: each commit's consent changes are
// computed once (only for the events some webhook's policy can concern), matched once per change
// against the webhooks' filters, and handed to bounded per-webhook queues. A webhook behind that
// stream (new, resumed after a restart, slow, retrying) reads its own backlog from its cursor in
// pages, then joins the stream; one whose queue fills falls back to reading from its cursor, so a
// slow receiver neither holds the others back nor grows memory. Each webhook sends one message at a
// time: a 2xx answer moves its cursor; anything else is tried again after growing delays until the
// schedule runs out, when the webhook is disabled with the reason. Cursors are stored in batches, so
// a restart may send a message again (with the same webhook-id), never skip one. Where replicas
// share the database, a lease per webhook lets one of them at a time deliver it.
// Here the lanes are started and stopped to match the leases; the jobs are beside it: the reader
// (commit-reader.ts), one webhook's lane (lane.ts), one message (deliver-message.ts), the leases
// (leases.ts) and the stored progress (progress-buffer.ts).
import type { Logger } from "pino";
import type { Ledger } from "../ledger.js";
import type { DeliveryRecord, WebhookCursor, WebhookRow, WebhookStore } from "../storage/webhook-store.js";
import { LookupCache } from "./address-guard.js";
import { CommitReader } from "./commit-reader.js";
import type { DeliveryOutcome, FeedRead, WebhookSettings } from "./delivery-settings.js";
import { type MessagePoster, ThreadSender } from "./delivery-thread.js";
import { Lane, type LaneHost } from "./lane.js";
import { Leases } from "./leases.js";
import { ProgressBuffer } from "./progress-buffer.js";
import { Sender } from "./sender.js";

export type { DeliveryOutcome, FeedRead, WebhookSettings } from "./delivery-settings.js";

export interface DispatcherOptions {
  store: WebhookStore;
  /** The log the changes are read from, and whose commits the shared stream follows. */
  ledger: Ledger;
  settings: WebhookSettings;
  /** The signing secret of a stored webhook. */
  secretOf: (row: WebhookRow) => Buffer;
  logger?: Logger;
  onOutcome?: (outcome: DeliveryOutcome) => void;
  onRead?: (read: FeedRead) => void;
  /** Changes a webhook may have waiting before it falls back to reading the log from its cursor. */
  queueSize?: number;
  /** Events read per backlog page. */
  pageSize?: number;
  lookups?: LookupCache;
}

/** Delivered records kept per webhook for webhookDeliveries; older ones are pruned. */
const KEEP_DELIVERIES = 1_000;
const PRUNE_EVERY_MS = 60_000;
const QUEUE_SIZE = 1_000;
/** How long a resolver's answer for a receiver's name is used before it is looked up again. */
const LOOKUP_TTL_MS = 5_000;
const PAGE_SIZE = 200;

/** Keeps the webhooks this replica holds a lease on delivered: one lane each, fed by one commit reader. */
export class Dispatcher implements LaneHost {
  readonly store: WebhookStore;
  readonly ledger: Ledger;
  readonly settings: WebhookSettings;
  readonly sender: MessagePoster;
  /** Receivers' names, resolved at most every few seconds; their addresses checked at every delivery. */
  readonly lookups: LookupCache;
  readonly log: Logger | undefined;
  readonly onOutcome: ((o: DeliveryOutcome) => void) | undefined;
  readonly queueSize: number;
  /** The shared stream of commits, and the backlog pages of lanes behind it. */
  readonly reader: CommitReader;
  private readonly leases: Leases;
  readonly holder: string;
  private readonly loops = new Map<string, Lane>();
  private readonly pendingProgress: ProgressBuffer;
  private refreshing: Promise<void> = Promise.resolve();
  private refreshTimer: NodeJS.Timeout | null = null;
  private lastPrune = 0;
  private stopped = false;

  constructor(private readonly opts: DispatcherOptions) {
    this.store = opts.store;
    this.ledger = opts.ledger;
    this.settings = opts.settings;
    this.log = opts.logger;
    this.onOutcome = opts.onOutcome;
    this.queueSize = opts.queueSize ?? QUEUE_SIZE;
    this.reader = new CommitReader(opts.ledger, opts.pageSize ?? PAGE_SIZE, opts.onRead, opts.logger);
    this.leases = new Leases(opts.settings);
    this.holder = this.leases.holder;
    this.pendingProgress = new ProgressBuffer(opts.store, this.holder, opts.settings.flushMs, opts.logger, (id) => {
      const loop = this.loops.get(id);
      if (loop) {
        this.log?.warn({ webhookId: id }, "webhook progress refused (lease lost or webhook deleted); stopping its delivery here");
        void this.drop(id, loop);
      }
    });
    this.sender = opts.settings.deliveryThread ? new ThreadSender(opts.settings) : new Sender(opts.settings);
    this.lookups = opts.lookups ?? new LookupCache(LOOKUP_TTL_MS);
  }

  start(): Promise<void> {
    this.reader.follow(() => this.loops.values());
    this.refreshTimer = setInterval(() => void this.refresh(), Math.max(10, Math.floor(this.settings.leaseMs / 4)));
    this.refreshTimer.unref();
    return this.refresh();
  }

  /** The last log position whose changes the shared stream has offered. */
  get offeredTo(): number {
    return this.reader.offeredTo;
  }

  /** Webhooks being delivered by this replica, with the age (ms) of the change each is on. */
  queueAges(now = Date.now()): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, loop] of this.loops) out.set(id, loop.current ? Math.max(0, now - loop.current.event.recordedAt) : 0);
    return out;
  }

  /** Whether this replica delivers a webhook now. */
  delivers(id: string): boolean {
    return this.loops.has(id);
  }

  /** Reads the webhooks, takes or renews leases, starts and stops loops to match. */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing.then(() => this.refreshOnce()).catch((e: unknown) => this.log?.warn({ err: e }, "reading webhooks or renewing their leases failed; retrying"));
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    if (this.stopped) return;
    const rows = (await this.store.list()).filter((r) => r.enabled);
    const asked = performance.now();
    const held = await this.store.acquireLeases(
      this.holder,
      rows.map((r) => r.id),
      this.settings.leaseMs,
    );
    if (this.stopped) return;
    this.leases.granted(held, asked);
    for (const [id, loop] of this.loops) if (!held.has(id)) await this.drop(id, loop);
    for (const row of rows) {
      if (!held.has(row.id) || this.loops.has(row.id)) continue;
      let secret: Buffer;
      try {
        secret = this.opts.secretOf(row);
      } catch (e) {
        this.log?.error({ err: e, webhookId: row.id }, "a webhook's secret cannot be opened with this EVIDENCE_KEK_FILE; not delivering it");
        continue;
      }
      const loop = new Lane(row, secret, this);
      this.loops.set(row.id, loop);
      loop.start();
    }
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now();
      await this.store.prune(KEEP_DELIVERIES);
    }
  }

  /** Whether a request may start now: the lease will outlast its time-out. */
  mayStart(id: string): boolean {
    return this.leases.mayStart(id);
  }

  /** A loop that ended by itself (an error): the next refresh starts the webhook again if it is still enabled and held. */
  ended(loop: Lane): void {
    if (this.loops.get(loop.row.id) === loop) this.loops.delete(loop.row.id);
  }

  private async drop(id: string, loop: Lane): Promise<void> {
    this.loops.delete(id);
    this.leases.drop(id);
    await loop.halt();
  }

  /** Stops delivering a webhook here at once (it was deleted); resolves when no request of it is in flight. */
  async forget(id: string): Promise<void> {
    const loop = this.loops.get(id);
    this.pendingProgress.forget(id);
    if (loop) await this.drop(id, loop);
  }

  progress(id: string, cursor: WebhookCursor | null, record: DeliveryRecord): void {
    this.pendingProgress.add(id, cursor, record);
  }

  async disable(id: string, reason: string, record: DeliveryRecord): Promise<void> {
    this.progress(id, null, record);
    await this.flush();
    await this.store.disable(id, reason, this.holder);
    this.log?.warn({ webhookId: id, reason }, "webhook disabled");
    this.loops.delete(id);
    this.leases.drop(id);
    await this.store.releaseLeases(this.holder, [id]).catch(() => undefined);
  }

  /** Stores what was acknowledged so far; a webhook whose lease was lost (or that was deleted) stops here. */
  flush(): Promise<void> {
    return this.pendingProgress.flush();
  }

  /** Stops every loop, stores the progress made, and gives the leases up for another replica. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.reader.stop();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.pendingProgress.stop();
    await this.refreshing;
    const ids = [...this.loops.keys()];
    await Promise.all([...this.loops.values()].map((l) => l.halt()));
    this.loops.clear();
    await this.flush().catch((e: unknown) => this.log?.warn({ err: e }, "storing webhook progress at shutdown failed; those messages will be sent again"));
    await this.store.releaseLeases(this.holder, ids).catch(() => undefined);
    await this.sender.close();
  }
}
