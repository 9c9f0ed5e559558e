// The log position this replica has applied: every commit up to it (its own and, on PostgreSQL, every
// other replica's, as the change feed delivers them) has reached this process's listeners, so the
// catalogue, the subscriptions and any replica-local view built from the feed include it. A read that
// must include a position (the Ledger-Min-Position header) waits here, woken by the feed's advance.
import { badInput } from "../domain/errors.js";
import { decodeCursor } from "../log/position.js";

/** How long a read waits for this replica to apply the position it asks for before STALE_READ. */
export const STALE_READ_WAIT_MS = 2_000;

export interface AppliedPositionOptions {
  /** "Now", epoch ms: the real time by default; a test's clock otherwise. */
  clock?: () => number;
  /**
   * Tells the waits when a test's clock moves (as the due-changes scheduler is told). Without it the
   * waits time out on real timers.
   */
  clockMoved?: (listener: () => void) => () => void;
  waitMs?: number;
}

interface Waiter {
  position: number;
  finish: (reached: boolean) => void;
}

export class AppliedPosition {
  private position: number;
  private readonly waiters = new Set<Waiter>();
  private readonly clock: () => number;
  private readonly waitMs: number;

  constructor(
    start: number,
    private readonly opts: AppliedPositionOptions = {},
  ) {
    this.position = start;
    this.clock = opts.clock ?? Date.now;
    this.waitMs = opts.waitMs ?? STALE_READ_WAIT_MS;
  }

  /** The last position this replica has applied. */
  get current(): number {
    return this.position;
  }

  /** How many reads are waiting for a position this replica has not applied yet. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Records that every commit up to `position` has been applied (positions only move forward). */
  advance(position: number): void {
    if (position <= this.position) return;
    this.position = position;
    for (const w of [...this.waiters]) if (w.position <= position) w.finish(true);
  }

  /**
   * Resolves true once `position` is applied (at once when it already is), false when it is not
   * within the wait (2 s): the caller answers STALE_READ rather than older data.
   */
  reach(position: number): Promise<boolean> {
    if (position <= this.position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const deadline = this.clock() + this.waitMs;
      let timer: NodeJS.Timeout | null = null;
      let stopWatching: (() => void) | null = null;
      const waiter: Waiter = {
        position,
        finish: (reached) => {
          if (!this.waiters.delete(waiter)) return;
          if (timer) clearTimeout(timer);
          stopWatching?.();
          resolve(reached);
        },
      };
      this.waiters.add(waiter);
      if (this.opts.clockMoved) stopWatching = this.opts.clockMoved(() => this.clock() >= deadline && waiter.finish(false));
      else timer = setTimeout(() => waiter.finish(false), this.waitMs);
    });
  }
}

/** The request header naming the position a read must include. */
export const MIN_POSITION_HEADER = "ledger-min-position";
/** The response header naming the position a mutation's last event took. */
export const POSITION_HEADER = "ledger-position";

/**
 * The position a Ledger-Min-Position value names (a 16-digit position as the ledger issues them:
 * `Ledger-Position`, an event's `position`, `ledgerHead.position`); null when the header is absent;
 * BAD_USER_INPUT for anything else.
 */
export function parseMinPosition(value: string | undefined): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  try {
    return decodeCursor(trimmed);
  } catch {
    throw badInput("Ledger-Min-Position is not a position this ledger issued (16 digits, as in Ledger-Position)");
  }
}
