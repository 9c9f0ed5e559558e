// Wakes at the next instant a grant expires or a version comes into effect, and records it in the log.
import type { Logger } from "pino";
import type { LedgerEvent } from "../domain/events.js";
import type { Ledger } from "../ledger.js";

const mayBeDueSooner = (e: LedgerEvent): boolean => (e.type === "ConsentGranted" && e.data.expiresAt !== null) || e.type === "PolicyVersionPublished";

export interface DueChangesOptions {
  logger?: Logger;
  /** The longest sleep between looks at the read models (a safety net; commits re-arm the timer anyway). */
  maxSleepMs?: number;
  /**
   * Subscribes to moves of the ledger's clock when it is not the real one (a test's clock): each
   * move makes the scheduler look again at the next due instant. Returns the unsubscribe.
   */
  clockMoved?: (listener: () => void) => () => void;
}

/**
 * Time-driven changes as facts in the log: at each expiry and each effectiveAt the ledger appends a
 * system event, so that consentChanged delivers the change like any other, in order, with a cursor,
 * and a change that fell due while the service was down is recorded when it starts. The next due
 * instant comes from an index (never a scan of the log); the append is decided inside the write
 * transaction against the read models, so a restart or two timers never record a change twice.
 */
export class DueChangesScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private rearm = false;
  private looking = false;
  private stopped = false;
  private unlisten: (() => void) | null = null;
  private unlistenClock: (() => void) | null = null;
  private readonly maxSleepMs: number;

  constructor(
    private readonly ledger: Ledger,
    private readonly opts: DueChangesOptions = {},
  ) {
    this.maxSleepMs = opts.maxSleepMs ?? 60_000;
  }

  /** Records what is already due, then follows every commit (a new grant may expire sooner). */
  start(): void {
    // Only a new grant with an expiry or a new publication can bring the next due instant closer.
    this.unlisten = this.ledger.onCommit((events) => {
      if (events.some(mayBeDueSooner)) this.arm();
    });
    this.unlistenClock = this.opts.clockMoved?.(() => this.arm()) ?? null;
    this.arm();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    this.unlistenClock?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Looks up the next due instant (one indexed read) and sets the timer for it; concurrent calls collapse into one look. */
  private arm(): void {
    if (this.stopped) return;
    if (this.running || this.looking) {
      this.rearm = true;
      return;
    }
    this.looking = true;
    this.ledger
      .nextDue()
      .then(
        (next) => {
          if (this.stopped || this.running) return;
          if (this.timer) clearTimeout(this.timer);
          this.timer = null;
          if (next === null) return;
          const delay = Math.min(Math.max(next - this.ledger.now(), 0), this.maxSleepMs);
          this.timer = setTimeout(() => this.run(), delay);
          this.timer.unref();
        },
        (e: unknown) => {
          this.opts.logger?.error({ err: e }, "reading the next due expiry or version failed; retrying in a second");
          if (!this.stopped) (this.timer = setTimeout(() => this.arm(), 1_000)).unref();
        },
      )
      .finally(() => {
        this.looking = false;
        if (this.rearm && !this.running) {
          this.rearm = false;
          this.arm();
        }
      });
  }

  private run(): void {
    this.timer = null;
    if (this.stopped || this.running) return;
    this.running = (async () => {
      let failed = false;
      try {
        while (!this.stopped && (await this.ledger.recordDueChanges()) > 0);
      } catch (e) {
        failed = true;
        this.opts.logger?.error({ err: e }, "recording due expiries and versions failed; retrying in a second");
      } finally {
        this.running = null;
        this.rearm = false;
        if (!failed) this.arm();
        else if (!this.stopped) (this.timer = setTimeout(() => this.arm(), 1_000)).unref();
      }
    })();
  }
}
