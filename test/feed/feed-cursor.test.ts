// The live feeds' cursors: fixed width so they sort as strings, read back exactly, anything else refused.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LedgerError } from "../../src/domain/errors.js";
import { decodeFeedCursor, encodeChangeCursor, isAfter } from "../../src/feed/feed-cursor.js";

function refusal(f: () => unknown): LedgerError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LedgerError);
    return e as LedgerError;
  }
  throw new Error("expected a refusal");
}

describe("feed cursors", () => {
  it("write a position and an index at fixed width, and read them back", () => {
    expect(encodeChangeCursor(42, 3)).toBe("0000000000000042-000003");
    expect(decodeFeedCursor("0000000000000042-000003", true)).toEqual({ position: 42, index: 3 });
    expect(decodeFeedCursor("0000000000000042", true)).toEqual({ position: 42, index: Number.POSITIVE_INFINITY });
    expect(decodeFeedCursor("0000000000000042", false)).toEqual({ position: 42, index: Number.POSITIVE_INFINITY });
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 53 - 1 }), fc.nat({ max: 999_999 }), fc.nat({ max: 2 ** 53 - 1 }), fc.nat({ max: 999_999 }), (p, i, q, j) => {
        expect(decodeFeedCursor(encodeChangeCursor(p, i), true)).toEqual({ position: p, index: i });
        // Cursors sort as strings exactly as (position, index) pairs do.
        const byPair = Math.sign(p - q || i - j);
        expect(encodeChangeCursor(p, i) < encodeChangeCursor(q, j)).toBe(byPair < 0);
        expect(encodeChangeCursor(p, i) === encodeChangeCursor(q, j)).toBe(byPair === 0);
      }),
    );
  });

  it("refuse an index where only a position is taken, and anything that is not a cursor", () => {
    for (const [c, allow] of [
      ["0000000000000042-000003", false],
      ["42", true],
      ["0000000000000042-3", true],
      ["0000000000000042-0000003", true],
      ["0000000000000042-", true],
      ["x0000000000000042", true],
      ["0000000000000042 ", true],
      ["00000000000000042", true],
      ["", true],
    ] as const) {
      const e = refusal(() => decodeFeedCursor(c, allow));
      expect(e.code).toBe("BAD_USER_INPUT");
      expect(e.message).toBe("after is not a cursor this ledger issued");
    }
  });

  it("an item comes after a cursor when its position is later, or the same with a larger index", () => {
    const c = { position: 10, index: 2 };
    expect(isAfter(c, 11, 0)).toBe(true);
    expect(isAfter(c, 10, 3)).toBe(true);
    expect(isAfter(c, 10, 2)).toBe(false);
    expect(isAfter(c, 10, 1)).toBe(false);
    expect(isAfter(c, 9, 99)).toBe(false);
    expect(isAfter({ position: 10, index: Number.POSITIVE_INFINITY }, 10, 1e9)).toBe(false);
  });
});
