// One subscriber of the change feed: replays the log from its cursor, then takes live items into a bounded queue.
import { LedgerError } from "../domain/errors.js";
import { PAGE_WEIGHT, nextTurn } from "../turns.js";
import { type FeedCursor, isAfter } from "./feed-cursor.js";

/** Replayed messages sent between two turns of the event loop, at most. */
const REPLAY_MESSAGES_PER_YIELD = 16;
/** Main-thread time (ms) replayed messages may take between two turns: heavy selections yield sooner. */
const REPLAY_SLICE_MS = 2;

/** A message of a feed with its place in the log. */
export interface FeedItem<T> {
  position: number;
  /** 0 for whole events; the change's index for consent changes. */
  index: number;
  value: T;
}

/** Reads the next page of matching items after `cursor`; `caughtUp` once the read reached the log's head. */
export type ReplayPage<T> = (cursor: FeedCursor) => Promise<{ items: FeedItem<T>[]; scannedTo: number; caughtUp: boolean }>;

export interface FeedSubscriptionOptions<T> {
  /** null: only what is committed from now on. */
  after: FeedCursor | null;
  /** The position of the last commit announced to the feed. */
  head: () => number;
  replay: ReplayPage<T>;
  matches: (item: FeedItem<T>) => boolean;
  /** Live items waiting for a slow client beyond this end the subscription with SLOW_SUBSCRIBER. */
  maxQueue: number;
  onEnd: () => void;
}

/**
 * The gap-free switch from replay to live: a commit is offered only after it is visible to reads.
 * So while a page is read, the items offered meanwhile are kept: whatever the read missed was
 * offered after it began, and whatever both saw is dropped by the cursor. Between page reads live
 * items are ignored (the next read sees them), and replay is pulled page by page as the client
 * consumes, which keeps replay memory to one page however long the history.
 */
export class FeedSubscription<T> implements AsyncIterableIterator<T> {
  private readonly queue: FeedItem<T>[] = [];
  private cursor: FeedCursor;
  private live: boolean;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  /** Items offered while a replay page is being read; null when no read is in flight. */
  private offeredDuringRead: FeedItem<T>[] | null = null;
  private sinceYield = 0;
  /** Main-thread time the replayed messages since the last turn took, and when the last was handed out. */
  private sliceMs = 0;
  private handedOutAt = 0;

  constructor(private readonly opts: FeedSubscriptionOptions<T>) {
    this.live = opts.after === null;
    this.cursor = opts.after ?? { position: opts.head(), index: Number.POSITIVE_INFINITY };
  }

  /** Offers live items (in log order); ignored while replaying, since the replay will read them. */
  offer(items: readonly FeedItem<T>[]): void {
    if (this.ended) return;
    if (!this.live) {
      const kept = this.offeredDuringRead;
      if (kept) {
        // Only what this subscriber follows counts against its queue: a flood of other events
        // committed while a page is read (another type, another subject) is not its backlog.
        for (const item of items) if (this.opts.matches(item)) kept.push(item);
        if (kept.length > this.opts.maxQueue) this.fail(this.tooSlow());
      }
      return;
    }
    let added = false;
    for (const item of items) {
      if (!isAfter(this.cursor, item.position, item.index) || !this.opts.matches(item)) continue;
      if (this.queue.length >= this.opts.maxQueue) {
        this.fail(this.tooSlow());
        return;
      }
      this.queue.push(item);
      this.cursor = { position: item.position, index: item.index };
      added = true;
    }
    if (added) this.notify();
  }

  private tooSlow(): LedgerError {
    return new LedgerError(
      "SLOW_SUBSCRIBER",
      `this subscription fell more than ${this.opts.maxQueue} messages behind and was ended; subscribe again with after set to the last cursor you received`,
    );
  }

  /** Ends the subscription with an error the client sees (after the items already queued). */
  fail(error: Error): void {
    if (this.ended) return;
    this.failure = error;
    this.finish();
  }

  /** Ends the subscription cleanly. */
  end(): void {
    this.finish();
  }

  get queued(): number {
    return this.queue.length;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.opts.onEnd();
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      const item = this.queue.shift();
      if (item) {
        // A socket write completes in a nextTick, so a replay sent as fast as it is read would never
        // let the event loop reach I/O: yield every few messages, and other requests are served meanwhile.
        if (!this.live) {
          // The time since the previous message was handed out is what sending it cost (its
          // execution and serialisation run between two calls of next()).
          const now = performance.now();
          if (this.handedOutAt > 0) this.sliceMs += now - this.handedOutAt;
          if (++this.sinceYield >= REPLAY_MESSAGES_PER_YIELD || this.sliceMs >= REPLAY_SLICE_MS) {
            const weight = Math.max(this.sinceYield, Math.ceil(this.sliceMs * 10));
            this.sinceYield = 0;
            this.sliceMs = 0;
            await nextTurn(weight);
          }
          this.handedOutAt = performance.now();
        }
        return { value: item.value, done: false };
      }
      if (this.failure) {
        const f = this.failure;
        this.failure = null;
        throw f;
      }
      if (this.ended) return { value: undefined, done: true };
      if (!this.live) {
        this.handedOutAt = 0;
        await nextTurn(PAGE_WEIGHT);
        if (this.ended) continue;
        await this.replayPage();
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private async replayPage(): Promise<void> {
    const offered: FeedItem<T>[] = [];
    this.offeredDuringRead = offered;
    let page;
    try {
      page = await this.opts.replay(this.cursor);
    } finally {
      this.offeredDuringRead = null;
    }
    if (this.ended) return;
    const take = (item: FeedItem<T>) => {
      if (!isAfter(this.cursor, item.position, item.index) || !this.opts.matches(item)) return;
      this.queue.push(item);
      this.cursor = { position: item.position, index: item.index };
    };
    page.items.forEach(take);
    if (page.caughtUp) {
      // The read saw every commit offered before it began; those offered since are in `offered`.
      offered.forEach(take);
      this.live = true;
      const head = this.opts.head();
      if (head > this.cursor.position) this.cursor = { position: head, index: Number.POSITIVE_INFINITY };
    } else if (page.scannedTo > this.cursor.position) {
      this.cursor = { position: page.scannedTo, index: Number.POSITIVE_INFINITY };
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.queue.length = 0;
    this.failure = null;
    this.finish();
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<T>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
