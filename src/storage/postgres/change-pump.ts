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

  constructor(private readonly opts: ChangePumpOptions) {}

  /** Starts after `position` (events at or before it are not delivered) and listens. */
  async start(position: number): Promise<void> {
    this.position = position;
    await this.listen();
    this.poll = setInterval(() => this.wake(), this.opts.pollMs ?? 1_000);
    this.poll.unref();
  }

  subscribe(listener: (events: readonly LedgerEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last position delivered to listeners. */
  delivered(): number {
    return this.position;
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
        const page = await this.read(this.position, PAGE);
        if (page.length === 0 || this.stopped) break;
        // Positions are dense and become visible in order: a page always continues the last one,
        // less what the writer handed over (offer) while it was read.
        const events = page.filter((e) => e.position > this.position);
        if (events.length > 0) this.deliver(events);
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
