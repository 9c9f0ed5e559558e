// WORKERS > 1: the primary holds the service's per-caller and per-subject counts (src/limits/shared-limits.ts)
// and answers its workers' questions about them. It notes which worker holds which slots, so the
// slots of a worker that dies go back at once: none is left held by a process that is gone.
import { LedgerError } from "../domain/errors.js";
import type { SharedLimits } from "../limits/shared-limits.js";
import type { SlotKind, SlotTable } from "../limits/slots.js";

/** What a worker asks of the counts. */
export type LimitAsk =
  | { op: "take" | "wait"; kind: SlotKind; key: string; max: number }
  | { op: "give"; kind: SlotKind; key: string }
  | { op: "quota"; subjectId: string; always: boolean }
  | { op: "visitor"; address: string };

/** Whether the slot or the count was granted; a refused write quota carries its error. */
export type LimitAnswer = { ok: true } | { ok: false; error?: { code: LedgerError["code"]; message: string; details?: Record<string, unknown> } };

const keyOf = (kind: SlotKind, key: string) => `${kind}\u0000${key}`;

export class LimitsHost {
  /** The slots each worker holds, by kind and caller. */
  private readonly holdings = new Map<object, Map<string, { kind: SlotKind; key: string; count: number }>>();
  /** Each worker's waits not granted yet. */
  private readonly waits = new Map<object, Set<{ kind: SlotKind; key: string; waiter: { grant: () => void } }>>();
  private readonly gone = new WeakSet<object>();

  constructor(private readonly limits: SharedLimits & { slots: SlotTable }) {}

  /** Answers `ask` of `worker`; a wait answers once the slot is the worker's. */
  async answer(worker: object, ask: LimitAsk): Promise<LimitAnswer> {
    switch (ask.op) {
      case "take":
        if (!this.limits.slots.take(ask.kind, ask.key, ask.max)) return { ok: false };
        this.held(worker, ask.kind, ask.key);
        return { ok: true };
      case "wait":
        await this.waitFor(worker, ask.kind, ask.key, ask.max);
        return { ok: true };
      case "give":
        this.give(worker, ask.kind, ask.key);
        return { ok: true };
      case "quota":
        try {
          await this.limits.writeQuota.take(ask.subjectId, ask.always);
          return { ok: true };
        } catch (e) {
          if (!(e instanceof LedgerError)) throw e;
          return { ok: false, error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } };
        }
      case "visitor":
        return { ok: await this.limits.visitorSessions.take(ask.address) };
    }
  }

  /** A slot `worker` took is given back. */
  give(worker: object, kind: SlotKind, key: string): void {
    const held = this.holdings.get(worker)?.get(keyOf(kind, key));
    if (!held) return;
    if (--held.count === 0) this.holdings.get(worker)!.delete(keyOf(kind, key));
    this.limits.slots.give(kind, key);
  }

  /** `worker` is gone: every slot it held goes back, and its waits are dropped. */
  forget(worker: object): void {
    this.gone.add(worker);
    for (const w of this.waits.get(worker) ?? []) this.limits.slots.cancel(w.kind, w.key, w.waiter);
    this.waits.delete(worker);
    const held = this.holdings.get(worker);
    this.holdings.delete(worker);
    for (const { kind, key, count } of held?.values() ?? []) for (let i = 0; i < count; i++) this.limits.slots.give(kind, key);
  }

  /** Slots `worker` holds now (tests). */
  heldBy(worker: object): number {
    let n = 0;
    for (const h of this.holdings.get(worker)?.values() ?? []) n += h.count;
    return n;
  }

  private held(worker: object, kind: SlotKind, key: string): void {
    let mine = this.holdings.get(worker);
    if (!mine) this.holdings.set(worker, (mine = new Map()));
    const h = mine.get(keyOf(kind, key));
    if (h) h.count++;
    else mine.set(keyOf(kind, key), { kind, key, count: 1 });
  }

  private waitFor(worker: object, kind: SlotKind, key: string, max: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wait = {
        kind,
        key,
        waiter: {
          grant: () => {
            this.waits.get(worker)?.delete(wait);
            // Handed over after its worker died: the slot goes on to the next waiter.
            if (this.gone.has(worker)) return this.limits.slots.give(kind, key);
            this.held(worker, kind, key);
            resolve();
          },
        },
      };
      if (this.gone.has(worker)) return;
      let mine = this.waits.get(worker);
      if (!mine) this.waits.set(worker, (mine = new Set()));
      mine.add(wait);
      if (this.limits.slots.takeOrQueue(kind, key, max, wait.waiter)) wait.waiter.grant();
    });
  }
}
