// Slots per caller, at most so many of a kind held at once: WebSocket connections, operations on
// them, whole-log reads, exports, replay pages. Counted in the serving process (SlotTable) or, with
// WORKERS > 1, by the primary for every worker (src/workers/limits-host.ts).
import { PAGE_WEIGHT, nextTurn } from "../turns.js";

/** What a caller holds slots of: WebSocket connections, operations on them, whole-log reads, exports, replay pages. */
export type SlotKind = "connection" | "operation" | "wholeLog" | "export" | "replay";

/** Slots per caller (`key`), at most `max` of a kind held at once. */
export interface Slots {
  /** Takes one slot when fewer than `max` are held; false (nothing taken) otherwise. */
  take(kind: SlotKind, key: string, max: number): boolean | Promise<boolean>;
  /** Takes one slot when fewer than `max` are held, else waits for one behind the earlier waiters. */
  wait(kind: SlotKind, key: string, max: number): Promise<void>;
  /**
   * Gives back one slot taken or waited for; a waiter, if any, gets it. Counted elsewhere (WORKERS > 1),
   * the promise resolves once the count has it back: whoever awaits it before answering frees the slot
   * for the caller's next request, on any worker.
   */
  give(kind: SlotKind, key: string): void | Promise<void>;
}

/** One waiting for a slot: `grant` is called once the slot is its own. */
interface Waiter {
  grant: () => void;
}

/**
 * The counts of every kind and caller. A slot given back while someone waits is handed over to the
 * first waiter (the count stays the same) through `handOver`.
 */
export class SlotTable implements Slots {
  private readonly held = new Map<string, { busy: number; waiting: Waiter[] }>();

  constructor(private readonly handOver: (grant: () => void) => void = (grant) => grant()) {}

  take(kind: SlotKind, key: string, max: number): boolean {
    const k = `${kind}\u0000${key}`;
    const slot = this.held.get(k);
    if ((slot?.busy ?? 0) >= max) return false;
    if (slot) slot.busy++;
    else this.held.set(k, { busy: 1, waiting: [] });
    return true;
  }

  /** Takes a slot now (true) or queues `waiter`, granted later (false); a queued waiter leaves the queue with `cancel`. */
  takeOrQueue(kind: SlotKind, key: string, max: number, waiter: Waiter): boolean {
    if (this.take(kind, key, max)) return true;
    this.held.get(`${kind}\u0000${key}`)!.waiting.push(waiter);
    return false;
  }

  cancel(kind: SlotKind, key: string, waiter: Waiter): void {
    const slot = this.held.get(`${kind}\u0000${key}`);
    const i = slot?.waiting.indexOf(waiter) ?? -1;
    if (i >= 0) slot!.waiting.splice(i, 1);
  }

  wait(kind: SlotKind, key: string, max: number): Promise<void> {
    return new Promise<void>((grant) => {
      if (this.takeOrQueue(kind, key, max, { grant })) grant();
    });
  }

  give(kind: SlotKind, key: string): void {
    const k = `${kind}\u0000${key}`;
    const slot = this.held.get(k);
    if (!slot) return;
    const next = slot.waiting.shift();
    if (next) return this.handOver(next.grant);
    if (--slot.busy === 0) this.held.delete(k);
  }

  /** Slots of `kind` held by `key` (tests and the primary's report). */
  heldBy(kind: SlotKind, key: string): number {
    return this.held.get(`${kind}\u0000${key}`)?.busy ?? 0;
  }
}

/**
 * Slots counted in this process. A slot handed over to a waiter is handed in a later turn of the
 * event loop: a caller's queued replays never run back to back in one.
 */
export const localSlots = (): SlotTable => new SlotTable((grant) => void nextTurn(PAGE_WEIGHT).then(grant));
