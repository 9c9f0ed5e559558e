// The main thread's fair turns, driven by hand: a controllable clock times each turn and the test
// decides when the next turn comes, so budgets and order are exact whatever the machine's load.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Turns, weightOf } from "../../src/turns.js";

/** Turns whose clock and next turn the test drives. */
function manual(opts: { initialBudget?: number; maxBudget?: number; targetMs?: number } = {}) {
  let clock = 0;
  const pending: (() => void)[] = [];
  const turns = new Turns({ ...opts, now: () => clock, schedule: (grant) => void pending.push(grant) });
  const released: string[][] = [];
  return {
    turns,
    advance: (ms: number) => void (clock += ms),
    /** Runs the next turn and lets its waiters' continuations run; returns who went in it. */
    async step(): Promise<string[]> {
      const grant = pending.shift();
      if (!grant) return [];
      released.push([]);
      grant();
      // Let the resolved waiters' continuations (microtasks) record themselves.
      await Promise.resolve();
      await Promise.resolve();
      return released.at(-1)!;
    },
    wait(name: string, weight = 1): Promise<void> {
      return turns.next(weight).then(() => void released.at(-1)!.push(name));
    },
    get scheduled() {
      return pending.length;
    },
  };
}

describe("fair turns of the main thread", () => {
  it("lets waiters go first come first served, as many small ones as the budget holds in one turn", async () => {
    const t = manual({ initialBudget: 4 });
    for (const n of ["a", "b", "c", "d", "e", "f"]) void t.wait(n);
    expect(t.scheduled).toBe(1);
    // The first turn comes at once (0 ms since it was asked for): the budget doubles to 8, enough for all six.
    expect(await t.step()).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(t.turns.queued).toBe(0);
    expect(t.scheduled).toBe(0);
  });

  it("gives a heavy waiter a turn of its own, and the small ones behind it the next", async () => {
    const t = manual({ initialBudget: 8, maxBudget: 8 });
    void t.wait("small-1");
    void t.wait("huge", 100);
    void t.wait("small-2");
    void t.wait("small-3");
    expect(await t.step()).toEqual(["small-1"]);
    expect(await t.step()).toEqual(["huge"]);
    expect(await t.step()).toEqual(["small-2", "small-3"]);
    expect(await t.step()).toEqual([]);
  });

  it("shrinks the budget in proportion after a turn longer than its target, and doubles it after a short one", async () => {
    const t = manual({ initialBudget: 16, maxBudget: 64, targetMs: 8 });
    for (let i = 0; i < 60; i++) void t.wait(`w${i}`);
    // 20 ms for an 8 ms target: 16 * 8 / 20 = 6.4, so six.
    t.advance(20);
    expect(await t.step()).toHaveLength(6);
    expect(t.turns.currentBudget).toBe(6);
    // Forty times over: down to one at once, not by halves.
    t.advance(320);
    expect(await t.step()).toHaveLength(1);
    t.advance(1);
    expect(await t.step()).toHaveLength(2);
    t.advance(1);
    expect(await t.step()).toHaveLength(4);
    // Between half the target and the target: kept.
    t.advance(6);
    expect(await t.step()).toHaveLength(4);
    expect(t.turns.currentBudget).toBe(4);
  });

  it("never lets the budget fall below one waiter a turn, however long the turns", async () => {
    const t = manual({ initialBudget: 2 });
    for (let i = 0; i < 5; i++) void t.wait(`w${i}`);
    for (let i = 0; i < 5; i++) {
      t.advance(1_000);
      expect(await t.step()).toEqual([`w${i}`]);
    }
  });

  it("lets every waiter go exactly once and in order, whatever the weights and turn lengths", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 30 })), { minLength: 1, maxLength: 60 }), async (waiters) => {
        const t = manual({ initialBudget: 8, maxBudget: 32 });
        waiters.forEach(([weight], i) => void t.wait(String(i), weight));
        const order: string[] = [];
        for (let turn = 0; order.length < waiters.length; turn++) {
          t.advance(waiters[turn % waiters.length]![1]);
          const went = await t.step();
          expect(went.length).toBeGreaterThan(0);
          // A turn never exceeds its budget unless a single waiter is heavier than the budget.
          const weight = went.reduce((sum, n) => sum + waiters[Number(n)]![0], 0);
          expect(went.length === 1 || weight <= 32).toBe(true);
          order.push(...went);
        }
        expect(order).toEqual(waiters.map((_, i) => String(i)));
        expect(t.scheduled).toBe(0);
      }),
    );
  });

  it("weighs a request by its text: one, plus one per 100 characters", () => {
    expect(weightOf(0)).toBe(1);
    expect(weightOf(99)).toBe(1);
    expect(weightOf(100)).toBe(2);
    expect(weightOf(50_000)).toBe(501);
  });
});
