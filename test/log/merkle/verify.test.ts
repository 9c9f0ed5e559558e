// The RFC 9162 verifier on its own: every honest proof of a small tree verifies, and each check refuses
// exactly what it is there for (a wrong shape, size, index, hash or root), with its own reason.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HASH_BYTES } from "../../../src/log/merkle/hash.js";
import { ProofError, rootFromInclusionProof, verifyConsistency, verifyInclusion } from "../../../src/log/merkle/verify.js";
import { ReferenceTree, leafData } from "./reference-tree.js";

const N = 20;
/** The sizes whose every tampering is tried (cubic in the size; kept small so a mutation run stays affordable). */
const SMALL = 9;
const data = leafData(11, N);
const ref = new ReferenceTree(data);
// The reference's one-leaf trees: the leaf hashes, computed without the code under test.
const leaves = data.map((_, i) => ref.mth(i, i + 1));
const root = (size: number) => ref.mth(0, size);
const path = (index: number, size: number) => ref.path(index, 0, size);
const proof = (from: number, to: number) => ref.proof(from, to);

/** The ProofError's message, "ok" when the check passes; any other throw fails the test. */
function verdict(check: () => void): string {
  try {
    check();
    return "ok";
  } catch (e) {
    if (e instanceof ProofError) {
      expect(e.name).toBe("ProofError");
      return e.message;
    }
    throw e;
  }
}

/** A copy of `h` with one bit flipped. */
function flipped(h: Uint8Array, bit: number): Buffer {
  const out = Buffer.from(h);
  out[(bit >> 3) % out.length]! ^= 1 << (bit & 7);
  return out;
}

const pairs = (n: number) => Array.from({ length: n }, (_, i) => i + 1).flatMap((to) => Array.from({ length: to }, (_, i) => [i + 1, to] as const));
const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => i + 1).flatMap((size) => Array.from({ length: size }, (_, index) => [index, size] as const));

describe("inclusion proofs", () => {
  it("every leaf of every size up to 20 verifies against its root, and leads to it", () => {
    for (const [index, size] of leavesOf(N)) {
      expect(verdict(() => verifyInclusion(index, size, leaves[index]!, path(index, size), root(size)))).toBe("ok");
      expect(rootFromInclusionProof(index, size, leaves[index]!, path(index, size)).equals(root(size))).toBe(true);
    }
  });

  it("refuses any other leaf, index or size with the same proof, and any flipped bit of the proof or the root", () => {
    for (const [index, size] of leavesOf(SMALL)) {
      const p = path(index, size);
      const ok = (i: number, s: number, leaf: Uint8Array, pr: readonly Uint8Array[], r: Uint8Array) => verdict(() => verifyInclusion(i, s, leaf, pr, r));
      for (let other = 0; other < size; other++) if (other !== index) expect(ok(other, size, leaves[index]!, p, root(size))).not.toBe("ok");
      for (let other = 0; other < size; other++) if (other !== index) expect(ok(index, size, leaves[other]!, p, root(size))).not.toBe("ok");
      // Another size with that size's root: the proof of this one does not reach it.
      for (let s = index + 1; s <= SMALL; s++) if (s !== size && !root(s).equals(root(size))) expect(ok(index, s, leaves[index]!, p, root(s))).not.toBe("ok");
      p.forEach((_, at) => {
        const bad = p.map((h, i) => (i === at ? flipped(h, index * 7 + at) : h));
        expect(ok(index, size, leaves[index]!, bad, root(size))).toBe("the proof leads to another root");
      });
      expect(ok(index, size, leaves[index]!, p, flipped(root(size), size))).toBe("the proof leads to another root");
      expect(ok(index, size, flipped(leaves[index]!, size + index), p, root(size))).toBe("the proof leads to another root");
    }
  });

  it("refuses a proof one hash too long or too short", () => {
    for (const [index, size] of leavesOf(SMALL)) {
      const p = path(index, size);
      expect(verdict(() => verifyInclusion(index, size, leaves[index]!, [...p, leaves[0]!], root(size)))).toBe("the proof is longer than the path to the root");
      if (p.length > 0)
        expect(verdict(() => verifyInclusion(index, size, leaves[index]!, p.slice(0, -1), root(size)))).toBe("the proof is shorter than the path to the root");
    }
  });

  it("a tree of one leaf: the leaf is the root and the proof is empty", () => {
    expect(verdict(() => verifyInclusion(0, 1, leaves[0]!, [], leaves[0]!))).toBe("ok");
    expect(rootFromInclusionProof(0, 1, leaves[0]!, [])).toEqual(leaves[0]);
    expect(verdict(() => verifyInclusion(0, 1, leaves[0]!, [leaves[1]!], leaves[0]!))).toBe("the proof is longer than the path to the root");
  });

  it("names each bad size, index and hash", () => {
    const l = leaves[0]!;
    const r = root(4);
    const p = path(0, 4);
    const v = (index: number, size: number, leaf: Uint8Array = l, pr: readonly Uint8Array[] = p, rt: Uint8Array = r) => verdict(() => verifyInclusion(index, size, leaf, pr, rt));
    expect(v(0, -1)).toBe("tree size -1 is not a tree size");
    expect(v(0, 4.5)).toBe("tree size 4.5 is not a tree size");
    expect(v(0, Number.NaN)).toBe("tree size NaN is not a tree size");
    expect(v(0, 2 ** 53)).toBe(`tree size ${2 ** 53} is not a tree size`);
    expect(v(-1, 4)).toBe("leaf index -1 is not a tree size");
    expect(v(0.5, 4)).toBe("leaf index 0.5 is not a tree size");
    expect(v(4, 4)).toBe("leaf index 4 is beyond a tree of 4 leaves");
    expect(v(5, 4)).toBe("leaf index 5 is beyond a tree of 4 leaves");
    expect(v(0, 0)).toBe("leaf index 0 is beyond a tree of 0 leaves");
    expect(v(0, 4, l.subarray(1))).toBe("the leaf hash is 31 bytes, not 32");
    expect(v(0, 4, Buffer.concat([l, Buffer.of(0)]))).toBe("the leaf hash is 33 bytes, not 32");
    expect(v(0, 4, l, [p[0]!, p[1]!.subarray(0, 20)])).toBe("proof hash 1 is 20 bytes, not 32");
    expect(v(0, 4, l, [Buffer.alloc(0), p[1]!])).toBe("proof hash 0 is 0 bytes, not 32");
    expect(v(0, 4, l, p, r.subarray(0, 16))).toBe("the root is 16 bytes, not 32");
    expect(HASH_BYTES).toBe(32);
  });

  it("the root is checked before the proof, the sizes before the hashes", () => {
    expect(verdict(() => verifyInclusion(9, 4, Buffer.alloc(3), [], Buffer.alloc(3)))).toBe("the root is 3 bytes, not 32");
    expect(verdict(() => verifyInclusion(9, 4, Buffer.alloc(3), [], root(4)))).toBe("leaf index 9 is beyond a tree of 4 leaves");
  });

  it("fast-check: an honest proof verifies, and flipping any bit anywhere is refused", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: N }).chain((size) => fc.tuple(fc.constant(size), fc.nat({ max: size - 1 }))),
        fc.nat(),
        fc.nat(),
        ([size, index], where, bit) => {
          const p = path(index, size);
          expect(verdict(() => verifyInclusion(index, size, leaves[index]!, p, root(size)))).toBe("ok");
          const parts = [leaves[index]!, ...p, root(size)];
          const at = where % parts.length;
          const bad = parts.map((h, i) => (i === at ? flipped(h, bit) : h));
          expect(verdict(() => verifyInclusion(index, size, bad[0]!, bad.slice(1, -1), bad.at(-1)!))).not.toBe("ok");
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("consistency proofs", () => {
  it("every pair of sizes up to 20 verifies", () => {
    for (const [from, to] of pairs(N)) expect(verdict(() => verifyConsistency(from, to, proof(from, to), root(from), root(to)))).toBe("ok");
  });

  it("refuses any flipped bit of the proof or either root, and any other first or second size", () => {
    for (const [from, to] of pairs(SMALL)) {
      const p = proof(from, to);
      const v = (m: number, n: number, pr: readonly Uint8Array[], r1: Uint8Array, r2: Uint8Array) => verdict(() => verifyConsistency(m, n, pr, r1, r2));
      p.forEach((_, at) => {
        const bad = p.map((h, i) => (i === at ? flipped(h, from * 5 + at) : h));
        expect(v(from, to, bad, root(from), root(to))).not.toBe("ok");
      });
      expect(v(from, to, p, flipped(root(from), to), root(to))).not.toBe("ok");
      expect(v(from, to, p, root(from), flipped(root(to), from))).not.toBe("ok");
      for (let m = 1; m <= to; m++) if (m !== from) expect(v(m, to, p, root(m), root(to))).not.toBe("ok");
      for (let n = from; n <= SMALL; n++) if (n !== to) expect(v(from, n, p, root(from), root(n))).not.toBe("ok");
    }
  });

  it("refuses a proof one hash too long or too short", () => {
    for (const [from, to] of pairs(SMALL)) {
      if (from === to) continue;
      const p = proof(from, to);
      expect(verdict(() => verifyConsistency(from, to, [...p, leaves[0]!], root(from), root(to)))).toBe("the proof is longer than it should be");
      const shorter = verdict(() => verifyConsistency(from, to, p.slice(0, -1), root(from), root(to)));
      expect(shorter).toBe(p.length === 1 ? "the proof is empty" : "the proof is shorter than it should be");
    }
  });

  it("says which root the proof does not lead to", () => {
    // 3 is not a power of two: the proof carries root1's parts, and a wrong root1 is caught as root1.
    expect(verdict(() => verifyConsistency(3, 7, proof(3, 7), root(4), root(7)))).toBe("the proof does not lead to root1");
    expect(verdict(() => verifyConsistency(3, 7, proof(3, 7), root(3), root(6)))).toBe("the proof does not lead to root2");
    // 4 is: root1 is the proof's first hash, so a wrong root1 shows as a wrong root2.
    expect(verdict(() => verifyConsistency(4, 7, proof(4, 7), root(3), root(7)))).toBe("the proof does not lead to root2");
    expect(verdict(() => verifyConsistency(4, 7, proof(4, 7), root(4), root(6)))).toBe("the proof does not lead to root2");
  });

  it("equal sizes: an empty proof and one root", () => {
    expect(verdict(() => verifyConsistency(5, 5, [], root(5), root(5)))).toBe("ok");
    expect(verdict(() => verifyConsistency(5, 5, [leaves[0]!], root(5), root(5)))).toBe("equal sizes need an empty proof");
    expect(verdict(() => verifyConsistency(5, 5, [], root(5), root(4)))).toBe("equal sizes with different roots");
  });

  it("names each bad size and hash", () => {
    const p = proof(3, 7);
    const v = (m: number, n: number, pr: readonly Uint8Array[] = p, r1: Uint8Array = root(3), r2: Uint8Array = root(7)) => verdict(() => verifyConsistency(m, n, pr, r1, r2));
    expect(v(0, 7)).toBe("there is nothing to prove about an empty tree");
    expect(v(0, 0, [])).toBe("there is nothing to prove about an empty tree");
    expect(v(-1, 7)).toBe("size1 -1 is not a tree size");
    expect(v(1.5, 7)).toBe("size1 1.5 is not a tree size");
    expect(v(3, -7)).toBe("size2 -7 is not a tree size");
    expect(v(3, 7.5)).toBe("size2 7.5 is not a tree size");
    expect(v(3, 2 ** 53)).toBe(`size2 ${2 ** 53} is not a tree size`);
    expect(v(8, 7)).toBe("size1 8 is larger than size2 7");
    expect(v(3, 7, p, root(3).subarray(1))).toBe("root1 is 31 bytes, not 32");
    expect(v(3, 7, p, root(3), Buffer.alloc(0))).toBe("root2 is 0 bytes, not 32");
    expect(v(3, 7, [p[0]!, Buffer.alloc(64)])).toBe("proof hash 1 is 64 bytes, not 32");
    expect(v(3, 7, [])).toBe("the proof is empty");
    expect(v(4, 7, [])).toBe("the proof is empty");
  });

  it("fast-check: an honest proof verifies, and flipping any bit anywhere is refused", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: N }).chain((to) => fc.tuple(fc.integer({ min: 1, max: to - 1 }), fc.constant(to))),
        fc.nat(),
        fc.nat(),
        ([from, to], where, bit) => {
          const p = proof(from, to);
          expect(verdict(() => verifyConsistency(from, to, p, root(from), root(to)))).toBe("ok");
          const parts = [root(from), root(to), ...p];
          const at = where % parts.length;
          const bad = parts.map((h, i) => (i === at ? flipped(h, bit) : h));
          expect(verdict(() => verifyConsistency(from, to, bad.slice(2), bad[0]!, bad[1]!))).not.toBe("ok");
        },
      ),
      { numRuns: 100 },
    );
  });
});
