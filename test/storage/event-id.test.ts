import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { timeOrderedUuid } from "../../src/storage/event-id.js";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const msOf = (id: string) => Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);

describe("timeOrderedUuid", () => {
  it("writes an RFC 9562 version 7 UUID carrying its millisecond", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 2 ** 20 }), (ms) => {
        // A millisecond later than any the generator has seen yet starts its own run of ids.
        const at = Math.max(ms, msOf(timeOrderedUuid()) + 1);
        const id = timeOrderedUuid(at);
        expect(id).toMatch(V7);
        expect(msOf(id)).toBe(at);
      }),
    );
  });

  it("orders ids as they were made, however many share a millisecond, and never repeats one", () => {
    const start = msOf(timeOrderedUuid()) + 1;
    const ids: string[] = [];
    // More than the 12-bit counter holds in one millisecond, then the clock steps back.
    for (let i = 0; i < 10_000; i++) ids.push(timeOrderedUuid(start));
    for (let i = 0; i < 100; i++) ids.push(timeOrderedUuid(start - 5_000));
    for (let i = 0; i < 100; i++) ids.push(timeOrderedUuid(start + 60_000 + i));
    for (const id of ids) expect(id).toMatch(V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(msOf(ids[0]!)).toBe(start);
  });
});
