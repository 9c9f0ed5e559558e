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
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { LedgerEvent } from "../domain/events.js";
import { CONSENT_TYPES } from "../feed/change-feed.js";
import { type ConsentChangeFact, consentChangesOf, isConsentAffecting } from "../feed/consent-changes.js";
import { type FeedCursor, isAfter } from "../feed/feed-cursor.js";
import type { Ledger } from "../ledger.js";
import type { DeliveryRecord, WebhookCursor, WebhookRow, WebhookStore } from "../storage/webhook-store.js";
import { type AddressPolicy, LookupCache, resolveChecked } from "./address-guard.js";
import { messageBody, messageId, signature } from "./message.js";
import { type MessagePoster, ThreadSender } from "./delivery-thread.js";
import { Sender } from "./sender.js";

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
/** A lease is used only while this much of it (at most a tenth of it) is left beyond a request's time-out. */
const LEASE_MARGIN_MS = 1_000;
/** Pause before following the feed again after it failed (the feed ended a slow reader, or the store went away). */
const RESUBSCRIBE_MS = 200;
const QUEUE_SIZE = 1_000;
/** How long a resolver's answer for a receiver's name is used before it is looked up again. */
const LOOKUP_TTL_MS = 5_000;
const PAGE_SIZE = 200;

const toFeed = (c: WebhookCursor): FeedCursor => ({ position: c.position, index: c.index ?? Number.POSITIVE_INFINITY });

const wait = (ms: number, signal: AbortSignal): Promise<void> =>
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

const describe = (status: number | null, error: string | null): string => (status !== null ? `HTTP ${status}` : (error ?? "no answer"));

/** The policies webhooks follow (null: every policy), as a set or the keys of a map. */
type FollowedPolicies = { has(id: string | null): boolean; keys(): Iterable<string | null> };

/** A change in a webhook's order. */
const cursorOf = (f: ConsentChangeFact): FeedCursor => ({ position: f.event.position, index: f.index });

/** One webhook delivered by this replica: its queue, its place in the log, its delivery loop. */
class Lane {
  readonly stop = new AbortController();
  /** The change being delivered (its recordedAt gives the queue's age). */
  current: ConsentChangeFact | null = null;
  done: Promise<void> = Promise.resolve();
  /** Changes taken from the log or the shared stream, not yet delivered, in order. */
  private readonly queue: ConsentChangeFact[] = [];
  /** Whether the shared stream hands this webhook its changes; false while it reads its backlog. */
  joined = false;
  /** Everything up to here is queued or delivered. */
  private readTo: FeedCursor;
  /** Changes the stream offered while a backlog page was read; null when no read is in flight. */
  offeredDuringRead: ConsentChangeFact[] | null = null;
  /** More was offered during the read than the queue holds: the read does not join the stream. */
  private overflowed = false;
  private wake: (() => void) | null = null;
  private readonly purposes: ReadonlySet<string> | null;

  constructor(
    readonly row: WebhookRow,
    private readonly secret: Buffer,
    private readonly d: Dispatcher,
  ) {
    this.readTo = toFeed(row.cursor);
    this.purposes = row.purposeIds && row.purposeIds.length > 0 ? new Set(row.purposeIds) : null;
  }

  /** Whether a change is one this webhook asked for (its policy filter is applied by the caller). */
  wants(f: ConsentChangeFact): boolean {
    return (this.row.policyId === null || f.current.policyId === this.row.policyId) && (this.purposes === null || this.purposes.has(f.current.purposeId));
  }

  /** Whether the shared stream has something to give this webhook (joined, or reading a page). */
  get following(): boolean {
    return this.joined || this.offeredDuringRead !== null;
  }

  /** A change from the shared stream that this webhook wants. */
  offer(f: ConsentChangeFact): void {
    const kept = this.offeredDuringRead;
    if (kept) {
      if (kept.length >= this.d.queueSize) this.overflowed = true;
      else kept.push(f);
      return;
    }
    if (!this.joined || !isAfter(this.readTo, f.event.position, f.index)) return;
    if (this.queue.length >= this.d.queueSize) {
      // Full: what follows is read from the log once the queue drains.
      this.joined = false;
      return;
    }
    this.queue.push(f);
    this.readTo = cursorOf(f);
    this.notify();
  }

  /** The shared stream lost a commit: read from the log again, and do not join on a read in flight. */
  detach(): void {
    this.joined = false;
    if (this.offeredDuringRead) this.overflowed = true;
  }

  /** Changes waiting (for metrics and tests). */
  get queued(): number {
    return this.queue.length;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  start(): void {
    this.done = this.run()
      .catch((e: unknown) => this.d.log?.error({ err: e, webhookId: this.row.id }, "webhook delivery stopped on an error; starting it again at the next lease renewal"))
      .finally(() => this.d.ended(this));
  }

  halt(): Promise<void> {
    this.stop.abort();
    this.notify();
    return this.done;
  }

  private async run(): Promise<void> {
    const { row } = this;
    let resumed = await this.d.store.pending(row.id);
    while (!this.stop.signal.aborted) {
      const fact = await this.next();
      if (!fact) return;
      const earlier = resumed && resumed.position === fact.event.position && resumed.index === fact.index ? resumed : null;
      resumed = null;
      const delivered = await this.deliver(fact, earlier);
      this.current = null;
      if (!delivered) return;
    }
  }

  /** The next change: queued, else read from the log (behind the stream), else the next the stream offers. */
  private async next(): Promise<ConsentChangeFact | null> {
    while (!this.stop.signal.aborted) {
      const f = this.queue.shift();
      if (f) return f;
      if (!this.joined) {
        try {
          await this.readPage();
        } catch (e) {
          if (this.stop.signal.aborted) return null;
          this.d.log?.debug({ err: e, webhookId: this.row.id }, "reading a webhook's backlog failed; trying again");
          await wait(RESUBSCRIBE_MS, this.stop.signal);
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        if (this.stop.signal.aborted) this.notify();
      });
    }
    return null;
  }

  /**
   * One page of this webhook's backlog after `readTo`. A commit reaches the shared stream only once
   * it is visible to reads, so what this read misses was offered while it ran, and is kept meanwhile:
   * with both, a page that reaches the head joins the stream without a gap (the cursor drops repeats).
   */
  private async readPage(): Promise<void> {
    const offered: ConsentChangeFact[] = [];
    this.offeredDuringRead = offered;
    this.overflowed = false;
    let page;
    try {
      page = await this.d.readBacklog(this.row.policyId, this.readTo);
    } finally {
      this.offeredDuringRead = null;
    }
    if (this.stop.signal.aborted) return;
    const take = (f: ConsentChangeFact) => {
      if (!isAfter(this.readTo, f.event.position, f.index) || !this.wants(f)) return;
      this.queue.push(f);
      this.readTo = cursorOf(f);
    };
    page.items.forEach(take);
    if (page.caughtUp && !this.overflowed) {
      offered.forEach(take);
      this.joined = true;
      const head = this.d.offeredTo;
      if (head > this.readTo.position) this.readTo = { position: head, index: Number.POSITIVE_INFINITY };
    } else if (page.scannedTo > this.readTo.position) this.readTo = { position: page.scannedTo, index: Number.POSITIVE_INFINITY };
  }

  /** True once acknowledged; false when the loop must stop (disabled, lease lost, stopped). */
  private async deliver(fact: ConsentChangeFact, earlier: DeliveryRecord | null): Promise<boolean> {
    const { row, d } = this;
    const { settings } = d;
    this.current = fact;
    const position = fact.event.position;
    const id = messageId(row.id, position, fact.index);
    const body = messageBody(fact);
    const url = new URL(row.url);
    let attempts = earlier?.attempts ?? 0;
    if (earlier?.nextAttemptAt != null) await wait(Math.max(0, earlier.nextAttemptAt - Date.now()), this.stop.signal);
    for (;;) {
      if (this.stop.signal.aborted) return false;
      // Without a lease that outlasts a request (the database unreachable for renewals), wait: the
      // next renewal extends it, or finds it taken by another replica and stops this loop.
      if (!d.mayStart(row.id)) {
        await wait(RESUBSCRIBE_MS, this.stop.signal);
        continue;
      }
      const at = Date.now();
      let status: number | null = null;
      let error: string | null = null;
      let outcome: DeliveryOutcome;
      try {
        const [to] = await resolveChecked(url, settings, d.lookups);
        const ts = Math.floor(at / 1000);
        const headers = { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature(this.secret, id, ts, body) };
        ({ status, error } = await d.sender.post(url, to!, headers, body, this.stop.signal));
        outcome = status === null ? (error?.startsWith("no answer") ? "timeout" : "unreachable") : status >= 200 && status < 300 ? "delivered" : status === 410 ? "gone" : "failed";
      } catch (e) {
        error = (e as Error).message;
        outcome = "refused";
      }
      if (this.stop.signal.aborted) return false;
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
      await wait(delay, this.stop.signal);
    }
  }
}

export class Dispatcher {
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly store: WebhookStore;
  readonly ledger: Ledger;
  readonly settings: WebhookSettings;
  readonly sender: MessagePoster;
  /** Receivers' names, resolved at most every few seconds; their addresses checked at every delivery. */
  readonly lookups: LookupCache;
  readonly log: Logger | undefined;
  readonly onOutcome: ((o: DeliveryOutcome) => void) | undefined;
  readonly queueSize: number;
  private readonly pageSize: number;
  private readonly loops = new Map<string, Lane>();
  /** Until when (performance.now) this replica may start a request per webhook under its lease. */
  private readonly leaseUntil = new Map<string, number>();
  private readonly pendingProgress = new Map<string, { cursor: WebhookCursor | null; deliveries: DeliveryRecord[] }>();
  private flushing: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> = Promise.resolve();
  private refreshTimer: NodeJS.Timeout | null = null;
  private lastPrune = 0;
  private stopped = false;
  /** The shared stream: commits are read in order, one after another. */
  private unlisten: (() => void) | null = null;
  private publishing: Promise<void> = Promise.resolve();
  /** The last log position whose changes the shared stream has offered. */
  offeredTo = 0;

  constructor(private readonly opts: DispatcherOptions) {
    this.store = opts.store;
    this.ledger = opts.ledger;
    this.settings = opts.settings;
    this.log = opts.logger;
    this.onOutcome = opts.onOutcome;
    this.queueSize = opts.queueSize ?? QUEUE_SIZE;
    this.pageSize = opts.pageSize ?? PAGE_SIZE;
    this.sender = opts.settings.deliveryThread ? new ThreadSender(opts.settings) : new Sender(opts.settings);
    this.lookups = opts.lookups ?? new LookupCache(LOOKUP_TTL_MS);
  }

  start(): Promise<void> {
    this.offeredTo = this.ledger.headPosition;
    this.unlisten = this.ledger.onCommit((events) => {
      this.publishing = this.publishing.then(() => this.publish(events));
    });
    this.refreshTimer = setInterval(() => void this.refresh(), Math.max(10, Math.floor(this.settings.leaseMs / 4)));
    this.refreshTimer.unref();
    return this.refresh();
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

  /**
   * Whether an event can change a decision a webhook following `policyId` (null: every policy) is
   * sent: events of no one policy (a subject leaving, processing suspended) concern all; an event of
   * a policy concerns the webhooks of that policy and of the policies that override it or that it
   * overrides.
   */
  private concerns(e: LedgerEvent, policyIds: FollowedPolicies): boolean {
    if (policyIds.has(null)) return true;
    const p = (e.data as { policyId?: unknown }).policyId;
    if (typeof p !== "string" || policyIds.has(p)) return true;
    const catalog = this.ledger.catalog;
    const above = catalog.chain(p);
    for (const id of policyIds.keys()) if (id !== null && (above.some((x) => x.id === id) || catalog.chain(id).some((x) => x.id === p))) return true;
    return false;
  }

  /** The consent changes of the events some of `policyIds` may hear of (each event's changes whole, so indexes are those of the log). */
  private changesOf(events: readonly LedgerEvent[], policyIds: FollowedPolicies): Promise<ConsentChangeFact[]> {
    const read = events.filter((e) => isConsentAffecting(e) && this.concerns(e, policyIds));
    return read.length === 0 ? Promise.resolve([]) : consentChangesOf(this.ledger, read);
  }

  /** A page of one webhook's backlog after `cursor` (its policy filter applied; its purposes by the caller). */
  async readBacklog(policyId: string | null, cursor: FeedCursor): Promise<{ items: ConsentChangeFact[]; scannedTo: number; caughtUp: boolean }> {
    this.opts.onRead?.("page");
    // A cursor inside an event (some of its changes delivered) reads that event again; the rest are skipped.
    const from = Number.isFinite(cursor.index) ? cursor.position - 1 : cursor.position;
    const events = await this.ledger.events(from, this.pageSize, { types: CONSENT_TYPES });
    const items = await this.changesOf(events, new Set([policyId]));
    return { items, scannedTo: events.at(-1)?.position ?? cursor.position, caughtUp: events.length < this.pageSize };
  }

  /** One commit, read once for every webhook following the stream, each change matched once. */
  private async publish(events: readonly LedgerEvent[]): Promise<void> {
    const last = events.at(-1)?.position ?? 0;
    try {
      const lanes = [...this.loops.values()].filter((l) => l.following);
      if (lanes.length === 0) return;
      const byPolicy = new Map<string | null, Lane[]>();
      for (const l of lanes) {
        const list = byPolicy.get(l.row.policyId);
        if (list) list.push(l);
        else byPolicy.set(l.row.policyId, [l]);
      }
      if (!events.some((e) => isConsentAffecting(e) && this.concerns(e, byPolicy))) return;
      this.opts.onRead?.("commit");
      const changes = await this.changesOf(events, byPolicy);
      const all = byPolicy.get(null) ?? [];
      for (const f of changes) {
        for (const l of all) if (l.wants(f)) l.offer(f);
        for (const l of byPolicy.get(f.current.policyId) ?? []) if (l.wants(f)) l.offer(f);
      }
    } catch (e) {
      // A commit whose changes could not be read: every webhook reads it from the log instead.
      this.log?.warn({ err: e }, "reading a commit's consent changes for webhooks failed; each webhook reads it from its cursor");
      for (const l of this.loops.values()) l.detach();
    } finally {
      if (last > this.offeredTo) this.offeredTo = last;
    }
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
    for (const id of held) this.leaseUntil.set(id, asked + this.settings.leaseMs);
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
    const until = this.leaseUntil.get(id);
    const margin = Math.min(LEASE_MARGIN_MS, this.settings.leaseMs / 10);
    return until !== undefined && performance.now() + this.settings.timeoutMs + margin < until;
  }

  /** A loop that ended by itself (an error): the next refresh starts the webhook again if it is still enabled and held. */
  ended(loop: Lane): void {
    if (this.loops.get(loop.row.id) === loop) this.loops.delete(loop.row.id);
  }

  private async drop(id: string, loop: Lane): Promise<void> {
    this.loops.delete(id);
    this.leaseUntil.delete(id);
    await loop.halt();
  }

  /** Stops delivering a webhook here at once (it was deleted); resolves when no request of it is in flight. */
  async forget(id: string): Promise<void> {
    const loop = this.loops.get(id);
    this.pendingProgress.delete(id);
    if (loop) await this.drop(id, loop);
  }

  progress(id: string, cursor: WebhookCursor | null, record: DeliveryRecord): void {
    let p = this.pendingProgress.get(id);
    if (!p) this.pendingProgress.set(id, (p = { cursor: null, deliveries: [] }));
    if (cursor) p.cursor = cursor;
    // A message's later attempt replaces its earlier one not yet stored.
    const last = p.deliveries.at(-1);
    if (last && last.position === record.position && last.index === record.index) p.deliveries[p.deliveries.length - 1] = record;
    else p.deliveries.push(record);
    this.scheduleFlush();
  }

  async disable(id: string, reason: string, record: DeliveryRecord): Promise<void> {
    this.progress(id, null, record);
    await this.flush();
    await this.store.disable(id, reason, this.holder);
    this.log?.warn({ webhookId: id, reason }, "webhook disabled");
    this.loops.delete(id);
    this.leaseUntil.delete(id);
    await this.store.releaseLeases(this.holder, [id]).catch(() => undefined);
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, this.settings.flushMs);
  }

  /** Stores what was acknowledged so far; a webhook whose lease was lost (or that was deleted) stops here. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pendingProgress.size === 0) return;
    const batch = [...this.pendingProgress].map(([webhookId, p]) => ({ webhookId, ...p }));
    this.pendingProgress.clear();
    this.flushing = (async () => {
      try {
        const refused = await this.store.saveProgress(batch, this.holder);
        for (const id of refused) {
          const loop = this.loops.get(id);
          if (loop) {
            this.log?.warn({ webhookId: id }, "webhook progress refused (lease lost or webhook deleted); stopping its delivery here");
            void this.drop(id, loop);
          }
        }
      } catch (e) {
        // Not stored: put it back in front of anything newer, and try again later.
        for (const p of batch) {
          const newer = this.pendingProgress.get(p.webhookId);
          this.pendingProgress.set(p.webhookId, { cursor: newer?.cursor ?? p.cursor, deliveries: [...p.deliveries, ...(newer?.deliveries ?? [])] });
        }
        this.log?.debug({ err: e }, "storing webhook progress failed (or the database was busy); retrying with the next flush");
        this.scheduleFlush();
      } finally {
        this.flushing = null;
      }
    })();
    await this.flushing;
  }

  /** Stops every loop, stores the progress made, and gives the leases up for another replica. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unlisten?.();
    this.unlisten = null;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    await this.refreshing;
    const ids = [...this.loops.keys()];
    await Promise.all([...this.loops.values()].map((l) => l.halt()));
    this.loops.clear();
    await this.flush().catch((e: unknown) => this.log?.warn({ err: e }, "storing webhook progress at shutdown failed; those messages will be sent again"));
    await this.store.releaseLeases(this.holder, ids).catch(() => undefined);
    await this.sender.close();
  }
}
