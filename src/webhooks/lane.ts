// One webhook delivered by this replica: its bounded queue, its place in the log, and its delivery
// loop. A lane behind the shared stream reads its own backlog from its cursor in pages, then joins
// the stream; one whose queue fills falls back to reading from its cursor, so a slow receiver neither
// holds the others back nor grows memory. It sends one message at a time.
import type { Logger } from "pino";
import type { ConsentChangeFact } from "../feed/consent-changes.js";
import { type FeedCursor, isAfter } from "../feed/feed-cursor.js";
import type { WebhookCursor, WebhookRow, WebhookStore } from "../storage/webhook-store.js";
import type { CommitReader, StreamFollower } from "./commit-reader.js";
import { type DeliveryHost, deliverMessage } from "./deliver-message.js";
import { RESUBSCRIBE_MS, wait } from "./delivery-settings.js";

/** What a lane needs of the dispatcher besides delivering a message. */
export interface LaneHost extends DeliveryHost {
  readonly store: WebhookStore;
  readonly reader: CommitReader;
  readonly log: Logger | undefined;
  /** Changes a lane may have waiting before it falls back to reading the log from its cursor. */
  readonly queueSize: number;
  /** A lane's loop ended (stopped, disabled or on an error). */
  ended(lane: Lane): void;
}

const toFeed = (c: WebhookCursor): FeedCursor => ({ position: c.position, index: c.index ?? Number.POSITIVE_INFINITY });

/** A change in a webhook's order. */
const cursorOf = (f: ConsentChangeFact): FeedCursor => ({ position: f.event.position, index: f.index });

export class Lane implements StreamFollower {
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
    private readonly d: LaneHost,
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
      this.current = fact;
      const delivered = await deliverMessage(this.d, row, this.secret, this.stop.signal, fact, earlier);
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
      page = await this.d.reader.readBacklog(this.row.policyId, this.readTo);
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
      const head = this.d.reader.offeredTo;
      if (head > this.readTo.position) this.readTo = { position: head, index: Number.POSITIVE_INFINITY };
    } else if (page.scannedTo > this.readTo.position) this.readTo = { position: page.scannedTo, index: Number.POSITIVE_INFINITY };
  }
}
