// The canonical encoding the hash chain covers: key-order independent, and one definition for rows and events.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GENESIS_HASH, canonicalJson, chainHash, hashedContent, sha256Hex } from "../../src/log/canonical.js";
import { canonicalRowContent, rowToEvent } from "../../src/storage/event-row.js";

type Row = Parameters<typeof canonicalRowContent>[0];

/** The same value with every object's keys in another order. */
function reordered(v: unknown, pick: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => reordered(x, pick));
  if (v === null || typeof v !== "object") return v;
  const entries = Object.entries(v as Record<string, unknown>);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = pick() % (i + 1);
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) Object.defineProperty(out, k, { value: reordered(x, pick), enumerable: true, writable: true, configurable: true });
  return out;
}

const row: fc.Arbitrary<Row> = fc.record({
  position: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  id: fc.uuid(),
  stream_id: fc.string({ unit: "grapheme", maxLength: 30 }),
  stream_version: fc.integer({ min: 1, max: 2 ** 31 }),
  type: fc.string({ maxLength: 30 }),
  schema_version: fc.integer({ min: 1, max: 9 }),
  subject_id: fc.option(fc.string({ unit: "binary", maxLength: 20 })),
  occurred_at: fc.integer({ min: -8.64e15, max: 8.64e15 }),
  recorded_at: fc.integer({ min: 0, max: 8.64e15 }),
  actor_kind: fc.constantFrom("SUBJECT", "SERVICE", "OFFICER", "SYSTEM"),
  actor_id: fc.string({ unit: "binary", maxLength: 20 }),
  data: fc.jsonValue().map((v) => canonicalJson(v)),
  prev_hash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b)),
  hash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b)),
});

describe("canonicalJson", () => {
  it("does not depend on the order of object keys", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.infiniteStream(fc.nat()), (value, randoms) => {
        const it = randoms[Symbol.iterator]();
        expect(canonicalJson(reordered(value, () => it.next().value))).toBe(canonicalJson(value));
      }),
      { numRuns: 300 },
    );
  });

  it("is JSON that parses back to the same value, and is a fixed point", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        // -0 is written as 0, as JSON.stringify does.
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it("sorts keys by code unit, leaves out undefined members and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: [1, { d: undefined, c: "x" }], B: null, é: true })).toBe('{"B":null,"a":[1,{"c":"x"}],"b":1,"é":true}');
    expect(canonicalJson([undefined])).toBe("[null]");
  });

  it("refuses non-finite numbers", () => {
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });
});

describe("canonicalRowContent", () => {
  it("equals canonicalJson(hashedContent(event)) for the event the row holds", () => {
    fc.assert(
      fc.property(row, (r) => {
        expect(canonicalRowContent(r)).toBe(canonicalJson(hashedContent(rowToEvent(r))));
      }),
      { numRuns: 500 },
    );
  });
});

describe("chainHash", () => {
  it("is SHA-256 over prevHash followed by the content", () => {
    expect(chainHash(GENESIS_HASH, "{}")).toBe(sha256Hex(`${GENESIS_HASH}{}`));
    expect(GENESIS_HASH).toMatch(/^0{64}$/);
  });
});
