// The position a replica has applied: reads wait on it, woken by the feed's advance, and give up
// after the wait (measured on the service's clock), never earlier.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppliedPosition, STALE_READ_WAIT_MS, parseMinPosition } from "../../src/feed/applied-position.js";
import { TestClock } from "../support/clock.js";

const applied = (start: number, clock = new TestClock()) => ({ clock, p: new AppliedPosition(start, { clock: clock.now, clockMoved: clock.onMove }) });

describe("AppliedPosition", () => {
  it("answers at once for a position already applied, and never moves back", async () => {
    const { p } = applied(10);
    await expect(p.reach(10)).resolves.toBe(true);
    await expect(p.reach(0)).resolves.toBe(true);
    p.advance(5);
    expect(p.current).toBe(10);
  });

  it("wakes exactly the waits whose position an advance reaches, whatever the order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 10 }), async (wanted, steps) => {
        const { p } = applied(0);
        const settled = new Map<number, boolean>();
        const waits = wanted.map((w, i) => p.reach(w).then((ok) => settled.set(i, ok)));
        for (const s of steps) {
          p.advance(s);
          await Promise.resolve();
          await Promise.resolve();
          wanted.forEach((w, i) => expect(settled.get(i), `wait for ${w} after ${p.current}`).toBe(w <= p.current ? true : undefined));
        }
        p.advance(Math.max(...wanted));
        await Promise.all(waits);
        expect(p.waiting).toBe(0);
      }),
    );
  });

  it("gives up only once the clock has passed the wait", async () => {
    const { clock, p } = applied(3);
    const wait = p.reach(4);
    clock.advance(STALE_READ_WAIT_MS - 1);
    expect(p.waiting).toBe(1);
    clock.advance(1);
    await expect(wait).resolves.toBe(false);
    expect(p.waiting).toBe(0);
    // A late advance finds no one to wake.
    p.advance(4);
    expect(p.current).toBe(4);
  });
});

describe("parseMinPosition", () => {
  it("reads a 16-digit position and nothing else", () => {
    expect(parseMinPosition(undefined)).toBeNull();
    expect(parseMinPosition("0000000000000042")).toBe(42);
    expect(parseMinPosition(" 0000000000000042 ")).toBe(42);
    for (const bad of ["", "42", "00000000000000042", "000000000000004a", "0000000000000001-000000"])
      expect(() => parseMinPosition(bad), bad).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT" }));
  });
});
