// The arithmetic under the proofs: split points, perfect subtrees of a range, post-order keys, proof
// plans, range folding and the compact range, each against a plain definition.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EMPTY_ROOT, leafHash, nodeHash } from "../../../src/log/merkle/hash.js";
import {
  isPowerOfTwo,
  largestPowerOfTwoAtMost,
  popCount,
  postOrderIndex,
  rangeNodes,
  splitPoint,
  trailingZeros,
} from "../../../src/log/merkle/node-id.js";
import { consistencyPlan, inclusionPlan } from "../../../src/log/merkle/proof-plan.js";
import { foldRange, planHashes } from "../../../src/log/merkle/range-hash.js";
import { TreeBuilder } from "../../../src/log/merkle/tree-builder.js";
import { ReferenceTree, leafData } from "./reference-tree.js";

const sha = (...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash("sha256")).digest();

describe("hashing (RFC 9162 §2.1.1)", () => {
  it("prefixes leaves with 0x00 and nodes with 0x01; the empty tree is SHA-256 of nothing", () => {
    const a = Buffer.from("a");
    const b = Buffer.from("b");
    expect(leafHash(a)).toEqual(sha(Buffer.of(0), a));
    expect(nodeHash(a, b)).toEqual(sha(Buffer.of(1), a, b));
    expect(EMPTY_ROOT.toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // RFC 6962's vector: the hash of the empty leaf.
    expect(leafHash(Buffer.alloc(0)).toString("hex")).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  });
});

describe("sizes and bits", () => {
  const pow2 = (n: number) => n >= 1 && (n & (n - 1)) === 0;

  it("splitPoint is the largest power of two strictly below n; largestPowerOfTwoAtMost the largest at most n", () => {
    for (let n = 1; n <= 300; n++) {
      const atMost = 2 ** Math.floor(Math.log2(n));
      expect(largestPowerOfTwoAtMost(n)).toBe(atMost);
      if (n >= 2) expect(splitPoint(n)).toBe(atMost === n ? n / 2 : atMost);
      expect(isPowerOfTwo(n)).toBe(pow2(n));
    }
    expect(isPowerOfTwo(0)).toBe(false);
    expect(isPowerOfTwo(-4)).toBe(false);
    expect(largestPowerOfTwoAtMost(2 ** 52 + 3)).toBe(2 ** 52);
    expect(splitPoint(2 ** 52)).toBe(2 ** 51);
    expect(isPowerOfTwo(2 ** 52)).toBe(true);
  });

  it("popCount and trailingZeros count bits beyond 32 bits", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 53n - 1n }), (big) => {
        const n = Number(big);
        const bits = big.toString(2);
        expect(popCount(n)).toBe([...bits].filter((c) => c === "1").length);
        expect(trailingZeros(n)).toBe(bits.length - 1 - bits.lastIndexOf("1"));
      }),
    );
    expect(popCount(0)).toBe(0);
    expect(popCount(2 ** 40 + 2 ** 33 + 1)).toBe(3);
    expect(trailingZeros(2 ** 40)).toBe(40);
    expect(trailingZeros(1)).toBe(0);
    expect(trailingZeros(12)).toBe(2);
  });
});

describe("post-order keys", () => {
  it("number the nodes 0, 1, 2, … in the order an append-only tree completes them", () => {
    const b = new TreeBuilder();
    let next = 0;
    for (let i = 0; i < 130; i++) {
      expect(postOrderIndex({ level: 0, index: i })).toBe(next++);
      for (const n of b.append(leafHash(Buffer.of(i & 0xff)))) expect(postOrderIndex(n)).toBe(next++);
    }
    // A tree of m leaves has 2m - popcount(m) nodes.
    expect(next).toBe(2 * 130 - popCount(130));
    expect(postOrderIndex({ level: 3, index: 0 })).toBe(14);
    expect(postOrderIndex({ level: 40, index: 1 })).toBe(2 * 2 ** 41 - 1 - 1 - 1);
  });
});

describe("range nodes", () => {
  it("split an aligned range into its perfect subtrees, largest first, each at most half the one before", () => {
    expect(rangeNodes({ begin: 0, end: 13 })).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(rangeNodes({ begin: 8, end: 16 })).toEqual([{ level: 3, index: 1 }]);
    expect(rangeNodes({ begin: 6, end: 7 })).toEqual([{ level: 0, index: 6 }]);
    expect(rangeNodes({ begin: 5, end: 5 })).toEqual([]);
    expect(rangeNodes({ begin: 2 ** 40, end: 2 ** 41 })).toEqual([{ level: 40, index: 1 }]);
  });

  it("refuse a range RFC 9162 never splits that way", () => {
    expect(() => rangeNodes({ begin: 2, end: 6 })).toThrow(new RangeError("range [2, 6) is not aligned as RFC 9162 splits trees"));
    expect(() => rangeNodes({ begin: 1, end: 3 })).toThrow(RangeError);
  });

  it("fold into the range's hash", () => {
    const data = leafData(5, 64);
    const ref = new ReferenceTree(data);
    const leaves = data.map((d) => leafHash(d));
    const b = new TreeBuilder();
    const nodes = new Map<string, Buffer>();
    leaves.forEach((l, i) => {
      nodes.set(`0/${i}`, l);
      for (const n of b.append(l)) nodes.set(`${n.level}/${n.index}`, n.hash);
    });
    const read = (id: { level: number; index: number }) => nodes.get(`${id.level}/${id.index}`)!;
    for (let end = 1; end <= 64; end++) expect(foldRange(rangeNodes({ begin: 0, end }).map(read))).toEqual(ref.mth(0, end));
    expect(planHashes([{ begin: 0, end: 5 }, { begin: 8, end: 16 }], read)).toEqual([ref.mth(0, 5), ref.mth(8, 16)]);
    expect(planHashes([], read)).toEqual([]);
  });

  it("folding needs at least one subtree; one is its own hash", () => {
    expect(() => foldRange([])).toThrow(new RangeError("an empty range has no subtrees to fold"));
    const h = leafHash(Buffer.from("x"));
    expect(foldRange([h])).toEqual(h);
    expect(foldRange([h, h, h])).toEqual(nodeHash(h, nodeHash(h, h)));
  });
});

describe("proof plans", () => {
  /** The ranges PATH(m, D[0:n]) hashes, from RFC 9162 §2.1.3.1 recursively, leaf first. */
  function pathRanges(m: number, begin: number, end: number): { begin: number; end: number }[] {
    const n = end - begin;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k ? [...pathRanges(m, begin, begin + k), { begin: begin + k, end }] : [...pathRanges(m - k, begin + k, end), { begin, end: begin + k }];
  }
  /** The ranges SUBPROOF(m, D[0:n], true) hashes (§2.1.4.1). */
  function proofRanges(m: number, begin: number, end: number, whole: boolean): { begin: number; end: number }[] {
    const n = end - begin;
    if (m === n) return whole ? [] : [{ begin, end }];
    const k = splitPoint(n);
    return m <= k
      ? [...proofRanges(m, begin, begin + k, whole), { begin: begin + k, end }]
      : [...proofRanges(m - k, begin + k, end, false), { begin, end: begin + k }];
  }

  it("are RFC 9162's PATH and PROOF for every leaf and every pair of sizes up to 33", () => {
    for (let n = 1; n <= 33; n++) {
      for (let m = 0; m < n; m++) expect(inclusionPlan(m, n)).toEqual(pathRanges(m, 0, n));
      for (let m = 1; m <= n; m++) expect(consistencyPlan(m, n)).toEqual(proofRanges(m, 0, n, true));
    }
  });

  it("are RFC 9162's for large trees too", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 2 ** 50 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const m = Math.min(n - 1, Math.floor(f * n));
        expect(inclusionPlan(m, n)).toEqual(pathRanges(m, 0, n));
        expect(consistencyPlan(m + 1, n)).toEqual(proofRanges(m + 1, 0, n, true));
      }),
    );
  });

  it("refuse a leaf outside the tree and sizes out of order, naming them", () => {
    expect(() => inclusionPlan(5, 5)).toThrow(new RangeError("leaf 5 is not in a tree of 5 leaves"));
    expect(() => inclusionPlan(-1, 5)).toThrow(new RangeError("leaf -1 is not in a tree of 5 leaves"));
    expect(() => inclusionPlan(0.5, 5)).toThrow(RangeError);
    expect(() => inclusionPlan(0, 5.5)).toThrow(RangeError);
    expect(() => inclusionPlan(0, 0)).toThrow(RangeError);
    expect(inclusionPlan(0, 1)).toEqual([]);
    expect(inclusionPlan(4, 5)).toEqual([{ begin: 0, end: 4 }]);
    expect(() => consistencyPlan(0, 5)).toThrow(new RangeError("no consistency proof from size 0 to size 5"));
    expect(() => consistencyPlan(6, 5)).toThrow(new RangeError("no consistency proof from size 6 to size 5"));
    expect(() => consistencyPlan(1.5, 5)).toThrow(RangeError);
    expect(() => consistencyPlan(1, 5.5)).toThrow(RangeError);
    expect(consistencyPlan(5, 5)).toEqual([]);
    expect(consistencyPlan(1, 1)).toEqual([]);
  });
});

describe("the compact range", () => {
  it("resumes a tree that then grows exactly as one built from the start", () => {
    const leaves = leafData(9, 80).map((d) => leafHash(d));
    const ref = new ReferenceTree(leafData(9, 80));
    const fresh = new TreeBuilder();
    expect(fresh.size).toBe(0);
    expect(fresh.root()).toEqual(EMPTY_ROOT);
    expect(fresh.compactRange()).toEqual([]);
    for (let size = 0; size < 80; size++) {
      const resumed = TreeBuilder.resume(size, fresh.compactRange());
      expect(resumed.size).toBe(size);
      expect(resumed.root()).toEqual(ref.mth(0, size));
      expect(resumed.compactRange()).toHaveLength(popCount(size));
      const a = fresh.append(leaves[size]!);
      expect(resumed.append(leaves[size]!)).toEqual(a);
      expect(resumed.root()).toEqual(fresh.root());
      expect(fresh.size).toBe(size + 1);
      expect(fresh.root()).toEqual(ref.mth(0, size + 1));
      // The nodes an append completes: as many as the new size's trailing zeros, lowest first.
      expect(a.map((n) => n.level)).toEqual(Array.from({ length: trailingZeros(size + 1) }, (_, i) => i + 1));
      for (const n of a) expect(n.hash).toEqual(ref.mth(n.index * 2 ** n.level, (n.index + 1) * 2 ** n.level));
    }
  });

  it("the root of the empty tree is a copy", () => {
    const r = new TreeBuilder().root();
    r[0] = 0;
    expect(EMPTY_ROOT[0]).toBe(0xe3);
  });

  it("refuses a compact range of the wrong length for its size", () => {
    const h = leafHash(Buffer.of(1));
    expect(() => TreeBuilder.resume(6, [h])).toThrow(new RangeError("a tree of 6 leaves has 2 border subtrees, not 1"));
    expect(() => TreeBuilder.resume(0, [h])).toThrow(new RangeError("a tree of 0 leaves has 0 border subtrees, not 1"));
    expect(() => TreeBuilder.resume(7, [h, h])).toThrow(RangeError);
    expect(TreeBuilder.resume(4, [h]).root()).toEqual(h);
  });
});
