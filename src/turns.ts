// Turns of the main thread, shared fairly by everything that can run long on it: requests, replay
// pages, subscription messages, exports, a version coming into effect for many subjects.
//
// Work that awaits `nextTurn(weight)` joins one queue. Each turn of the event loop (a `setImmediate`,
// so after the I/O phase) lets waiters go, first come first served, until their weights fill the
// turn's budget (at least one goes); the budget adapts to how long the previous turn took, so that a
// turn lasts about `TURN_TARGET_MS` however heavy the waiters. A request weighs by its text (a
// document ten times longer costs about ten times more to parse, validate and price), so one huge
// document takes a turn of its own while many small ones share one.
// Between two turns the event loop reads sockets and answers what does not queue (`/healthz`,
// `/readyz`, `/metrics`), so those answer within a turn or two even when the thread is saturated;
// and a caller sending many heavy requests gets its place in the queue, not the whole thread.

/** How long a turn of granted work should last. */
export const TURN_TARGET_MS = 8;
/** A document this long (characters) is screened, validated, and priced and run, in three turns. */
export const LONG_DOCUMENT = 4_096;
/** Weight units per millisecond of main-thread work. */
export const WEIGHT_PER_MS = 10;
/** The weight of work that reads a page of the log or a step of subjects (a few ms of it). */
export const PAGE_WEIGHT = 50;

/**
 * A request's weight, in units of about a tenth of a millisecond of main-thread work: one, plus one
 * per 100 characters of its text (parsing, validating and pricing a document costs a few ms per KiB,
 * a small request's whole pipeline about a tenth of a ms per 100 characters of it).
 */
export const weightOf = (chars: number): number => 1 + Math.floor(chars / 100);

export interface TurnsOptions {
  /** How long a turn should last, in ms; default TURN_TARGET_MS. */
  targetMs?: number;
  /** The weight let go in a turn at first (default one target's worth), and at most (default two targets' worth). */
  initialBudget?: number;
  maxBudget?: number;
  /** The clock turns are timed by; default performance.now. */
  now?: () => number;
  /** How the next turn is asked for; default setImmediate (after the I/O phase). */
  schedule?: (grant: () => void) => void;
}

interface Waiter {
  resolve: () => void;
  weight: number;
}

export class Turns {
  private readonly waiting: Waiter[] = [];
  private head = 0;
  private scheduled = false;
  private budget: number;
  private turnStartedAt = 0;
  /** Turns granted so far. */
  turn = 0;
  private readonly targetMs: number;
  private readonly maxBudget: number;
  private readonly now: () => number;
  private readonly schedule: (grant: () => void) => void;

  constructor(opts: TurnsOptions = {}) {
    this.targetMs = opts.targetMs ?? TURN_TARGET_MS;
    this.maxBudget = opts.maxBudget ?? 2 * WEIGHT_PER_MS * this.targetMs;
    this.budget = Math.min(this.maxBudget, opts.initialBudget ?? WEIGHT_PER_MS * this.targetMs);
    this.now = opts.now ?? (() => performance.now());
    this.schedule = opts.schedule ?? ((grant) => void setImmediate(grant));
  }

  /** Resolves in a later turn of the event loop, in the order asked; `weight` is what the work after it costs, in units of a small request. */
  next(weight = 1): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push({ resolve, weight });
      if (!this.scheduled) {
        this.scheduled = true;
        this.turnStartedAt = this.now();
        this.schedule(this.grant);
      }
    });
  }

  /** Waiters queued for a turn. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** The weight the next turn may let go. */
  get currentBudget(): number {
    return this.budget;
  }

  private readonly grant = (): void => {
    this.turn++;
    const now = this.now();
    // The turn just ended: the previous waiters' work, the I/O phase and the timers.
    const took = now - this.turnStartedAt;
    this.turnStartedAt = now;
    // A turn that overran shrinks the budget in proportion at once; a short one doubles it.
    if (took > this.targetMs) this.budget = Math.max(1, Math.floor((this.budget * this.targetMs) / took));
    else if (took < this.targetMs / 2) this.budget = Math.min(this.maxBudget, this.budget * 2);
    const released: (() => void)[] = [];
    const { waiting } = this;
    for (let spent = 0; this.head < waiting.length && (released.length === 0 || spent + waiting[this.head]!.weight <= this.budget); this.head++) {
      spent += waiting[this.head]!.weight;
      released.push(waiting[this.head]!.resolve);
    }
    if (this.head === waiting.length) {
      waiting.length = 0;
      this.head = 0;
    } else if (this.head > 1_024 && this.head * 2 > waiting.length) {
      waiting.splice(0, this.head);
      this.head = 0;
    }
    if (this.queued > 0) this.schedule(this.grant);
    else this.scheduled = false;
    // Their work runs as this callback returns (microtasks), before the next turn's I/O phase.
    for (const resolve of released) resolve();
  };
}

/** The main thread's turns, shared by everything in the process. */
export const mainTurns = new Turns();

/** Waits for a turn of the main thread (see Turns.next). */
export const nextTurn = (weight = 1): Promise<void> => mainTurns.next(weight);
