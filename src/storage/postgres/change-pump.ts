// Fan-out across replicas: LISTEN/NOTIFY only wakes the pump; the log read by position is the truth,
// so every listener sees every committed event once, in position order, whichever replica wrote it.
import pg from "pg";
import type { LedgerEvent } from "../../domain/events.js";
import { connectionConfig } from "./connection.js";

export interface ChangePumpOptions {
  url: string;
  channel: string;
  read: (afterPosition: number, limit: number) => Promise<LedgerEvent[]>;
  /** The same read on a given connection (the listening one). */
  readWith?: (client: pg.ClientBase, afterPosition: number, limit: number) => Promise<LedgerEvent[]>;
  onError: (e: unknown) => void;
  /** A read even without a wake-up, in case a notification was lost with a connection (ms). */
  pollMs?: number;
  /** A monotonic clock in ms for how long ago the log was last read to its end (performance.now by default). */
  now?: () => number;
}

const PAGE = 500;
/** How long a writer waits for its own events to reach the listeners before answering anyway. */
const CATCH_UP_WAIT_MS = 2_000;

export class ChangePump {
  private readonly listeners = new Set<(events: readonly LedgerEvent[]) => void>();
  private position = 0;
  private listener: pg.Client | null = null;
  private stopped = false;
  private draining: Promise<void> | null = null;
  private again = false;
  private poll: NodeJS.Timeout | null = null;
  private reconnect: NodeJS.Timeout | null = null;
  private readonly waiters: { position: number; done: () => void }[] = [];
  /**
   * When (opts.now) the last read that found the log's end began, while listening: every commit
   * visible then has been delivered. -Infinity until one, and again from the moment the listening
   * connection is lost until a read begun after it is listening again finds the end.
   */
  private syncedAt = Number.NEGATIVE_INFINITY;
  /** Counts losses of the listening connection: a read begun before one does not count as caught up. */
  private losses = 0;
  private readonly now: () => number;

  constructor(private readonly opts: ChangePumpOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Starts after `position` (events at or before it are not delivered) and listens. */
  async start(position: number): Promise<void> {
    this.position = position;
    await this.listen();
    this.poll = setInterval(() => this.wake(), this.opts.pollMs ?? 1_000);
    this.poll.unref();
    // A first read at once: until one finds the log's end the feed does not count as current.
    this.wake();
  }

  subscribe(listener: (events: readonly LedgerEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last position delivered to listeners. */
  delivered(): number {
    return this.position;
  }

  /**
   * How long ago (ms) a read that began while listening found the log's end, so that every commit
   * visible in the database that long ago has been delivered; Infinity while the listening
   * connection is down and until a read begun after it came back has found the end.
   */
  lagMs(): number {
    if (this.listener === null || this.stopped) return Number.POSITIVE_INFINITY;
    return this.now() - this.syncedAt;
  }

  /** Resolves once events up to `position` have been delivered (or after a bounded wait). */
  caughtUpTo(position: number): Promise<void> {
    if (this.position >= position || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, CATCH_UP_WAIT_MS);
      const waiter = { position, done };
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(waiter);
      this.wake();
    });
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(connectionConfig(this.opts.url, "consent-ledger-listener"));
    client.on("error", (e) => this.lost(client, e));
    client.on("end", () => this.lost(client, new Error("listener connection ended")));
    client.on("notification", () => this.wake());
    await client.connect();
    await client.query(`LISTEN ${this.opts.channel}`);
    this.listener = client;
  }

  /** The listening connection is gone: notifications may have been missed, so read when it is back. */
  private lost(client: pg.Client, e: unknown): void {
    if (this.listener !== client || this.stopped) return;
    this.listener = null;
    this.losses++;
    this.syncedAt = Number.NEGATIVE_INFINITY;
    client.end().catch(() => undefined);
    this.opts.onError(e);
    this.scheduleReconnect(250);
  }

  private scheduleReconnect(ms: number): void {
    if (this.reconnect || this.stopped) return;
    this.reconnect = setTimeout(() => {
      this.reconnect = null;
      this.listen().then(
        () => this.wake(),
        (e: unknown) => {
          this.opts.onError(e);
          this.scheduleReconnect(Math.min(ms * 2, 5_000));
        },
      );
    }, ms);
    this.reconnect.unref();
  }

  /** Reads and delivers whatever committed after the last delivered position. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /**
   * Events this replica has just committed, handed over by its writer: delivered at once, without
   * reading them back, when they continue exactly what was delivered; otherwise (another replica's
   * events come first) the pump reads the log as on a wake-up.
   */
  offer(events: readonly LedgerEvent[]): void {
    if (this.stopped || events.length === 0) return;
    if (events[0]!.position !== this.position + 1) {
      this.wake();
      return;
    }
    this.deliver(events);
  }

  private deliver(events: readonly LedgerEvent[]): void {
    this.position = events.at(-1)!.position;
    for (const l of this.listeners) {
      try {
        l(events);
      } catch (e) {
        this.opts.onError(e);
      }
    }
    this.release();
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        const began = this.now();
        const listening = this.listener !== null;
        const losses = this.losses;
        const page = await this.read(this.position, PAGE);
        if (this.stopped) break;
        // The end of the log as of `began`, read with the listening connection up all along.
        const synced = page.length < PAGE && listening && losses === this.losses;
        // Positions are dense and become visible in order: a page always continues the last one,
        // less what the writer handed over (offer) while it was read.
        const events = page.filter((e) => e.position > this.position);
        if (events.length > 0) this.deliver(events);
        if (synced) this.syncedAt = began;
        if (page.length < PAGE) break;
      }
    } catch (e) {
      this.opts.onError(e);
    }
    this.release();
  }

  /**
   * Reads through the listening connection while it is up, so the pump never queues for a pooled
   * connection behind the writers that are waiting for it; through the pool otherwise.
   */
  private async read(after: number, limit: number): Promise<LedgerEvent[]> {
    const l = this.listener;
    if (l && this.opts.readWith) return this.opts.readWith(l, after, limit);
    return this.opts.read(after, limit);
  }

  private release(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.position <= this.position) {
        this.waiters.splice(i, 1);
        w.done();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    if (this.reconnect) clearTimeout(this.reconnect);
    for (const w of this.waiters.splice(0)) w.done();
    await this.draining?.catch(() => undefined);
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => undefined);
  }
}
