// The proof generator against a plain recursive RFC 9162 §2.1 tree hash: MTH, PATH and PROOF as the RFC writes them.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type NodeId,
  TreeBuilder,
  consistencyPlan,
  inclusionPlan,
  leafHash,
  ProofError,
  planHashes,
  postOrderIndex,
  verifyConsistency,
  verifyInclusion,
} from "../../../src/log/merkle/index.js";
import { ReferenceTree, leafData } from "./reference-tree.js";

/** What the generator sees: leaf hashes and the stored nodes (level >= 1) keyed by post-order index, as the store keeps them. */
function generatorTree(data: readonly Buffer[]) {
  const leaves = data.map((d) => leafHash(d));
  const nodes = new Map<number, Buffer>();
  const builder = new TreeBuilder();
  const roots: Buffer[] = [];
  for (const l of leaves) {
    for (const n of builder.append(l)) {
      const key = postOrderIndex(n);
      expect(nodes.has(key)).toBe(false);
      nodes.set(key, n.hash);
    }
    roots.push(builder.root());
  }
  const read = (id: NodeId) => (id.level === 0 ? leaves[id.index]! : nodes.get(postOrderIndex(id))!);
  return { leaves, nodes, roots, read };
}

const same = (a: readonly Buffer[], b: readonly Buffer[]) => a.length === b.length && a.every((h, i) => h.equals(b[i]!));

/**
 * Every size up to `n` (its root), every leaf of every size, every pair of sizes: the generator's proofs equal
 * the reference's, and the verifier accepts them. Returns the first disagreement, or null.
 */
function disagreement(seed: number, n: number): string | null {
  const data = leafData(seed, n);
  const ref = new ReferenceTree(data);
  const gen = generatorTree(data);
  for (let to = 1; to <= n; to++) {
    const root = ref.mth(0, to);
    if (!gen.roots[to - 1]!.equals(root)) return `root of size ${to}`;
    for (let m = 0; m < to; m++) {
      const proof = planHashes(inclusionPlan(m, to), gen.read);
      if (!same(proof, ref.path(m, 0, to))) return `inclusion of ${m} in ${to}`;
      verifyInclusion(m, to, gen.leaves[m]!, proof, root);
    }
    for (let from = 1; from <= to; from++) {
      const proof = planHashes(consistencyPlan(from, to), gen.read);
      if (!same(proof, ref.proof(from, to))) return `consistency from ${from} to ${to}`;
      verifyConsistency(from, to, proof, ref.mth(0, from), root);
    }
  }
  return null;
}

describe("proof generation (RFC 9162 §2.1)", () => {
  it("matches the reference for every size up to 200, every leaf and every pair of sizes", () => {
    expect(disagreement(1, 200)).toBeNull();
  });

  it("matches the reference whatever the leaves", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.integer(), (n, seed) => disagreement(seed, n) === null),
      { numRuns: 20 },
    );
  });

  it("stores each perfect subtree once, under keys that only grow as leaves are appended", () => {
    const gen = generatorTree(leafData(7, 1000));
    const keys = [...gen.nodes.keys()];
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    // n - 1 interior nodes when n is a power of two: about one stored hash per event.
    expect(generatorTree(leafData(7, 1024)).nodes.size).toBe(1023);
  });

  it("refuses a proof for a leaf outside the tree or sizes out of order", () => {
    expect(() => inclusionPlan(5, 5)).toThrow(RangeError);
    expect(() => inclusionPlan(-1, 5)).toThrow(RangeError);
    expect(() => consistencyPlan(0, 5)).toThrow(RangeError);
    expect(() => consistencyPlan(6, 5)).toThrow(RangeError);
    expect(() => consistencyPlan(1.5, 5)).toThrow(RangeError);
  });

  it("a verifier catches any changed bit of a generated proof", () => {
    const data = leafData(3, 77);
    const gen = generatorTree(data);
    const root = gen.roots[76]!;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 76 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, bit) => {
        const proof = planHashes(inclusionPlan(m, 77), gen.read);
        verifyInclusion(m, 77, gen.leaves[m]!, proof, root);
        const bad = proof.map((p) => Buffer.from(p));
        const hash = bad[at % bad.length]!;
        hash.writeUInt8(hash.readUInt8(bit % 32) ^ (1 << (bit % 8)), bit % 32);
        expect(() => verifyInclusion(m, 77, gen.leaves[m]!, bad, root)).toThrow(ProofError);
      }),
      { numRuns: 100 },
    );
  });
});
