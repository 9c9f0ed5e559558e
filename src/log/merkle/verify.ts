// RFC 9162 proof verification (§2.1.3.2 inclusion, §2.1.4.2 consistency): the checks a client runs.
import { HASH_BYTES, nodeHash } from "./hash.js";
import { isPowerOfTwo } from "./node-id.js";

/** Why a proof does not verify. */
export class ProofError extends Error {
  static readonly code = "PROOF_INVALID";
  readonly code = ProofError.code;
  override readonly name = "ProofError";
}

const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

function checkHash(what: string, h: Uint8Array): void {
  if (h.length !== HASH_BYTES) throw new ProofError(`${what} is ${h.length} bytes, not ${HASH_BYTES}`);
}

function checkSize(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new ProofError(`${what} ${n} is not a tree size`);
}

const equal = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/** The root an inclusion proof leads to, or a ProofError when its shape does not fit the index and size. */
export function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Buffer {
  checkSize("tree size", size);
  checkSize("leaf index", index);
  if (index >= size) throw new ProofError(`leaf index ${index} is beyond a tree of ${size} leaves`);
  checkHash("the leaf hash", leaf);
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const [i, p] of proof.entries()) {
    checkHash(`proof hash ${i}`, p);
    if (sn === 0) throw new ProofError("the proof is longer than the path to the root");
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) while (!isOdd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else r = nodeHash(r, p);
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) throw new ProofError("the proof is shorter than the path to the root");
  return r;
}

/** Throws a ProofError unless `proof` proves leaf `index` with hash `leaf` in the tree of `size` leaves with `root`. */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  checkHash("the root", root);
  const computed = rootFromInclusionProof(index, size, leaf, proof);
  if (!equal(computed, root)) throw new ProofError("the proof leads to another root");
}

/**
 * Throws a ProofError unless `proof` proves that the tree of `size1` leaves with `root1` is a prefix of the
 * tree of `size2` leaves with `root2`. Size 0 is refused: the empty tree is a prefix of anything, so no proof is needed.
 */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  checkSize("size1", size1);
  checkSize("size2", size2);
  if (size1 === 0) throw new ProofError("there is nothing to prove about an empty tree");
  if (size1 > size2) throw new ProofError(`size1 ${size1} is larger than size2 ${size2}`);
  if (size1 === size2) {
    // The same tree: nothing to prove but that both roots are one.
    if (proof.length > 0) throw new ProofError("equal sizes need an empty proof");
    if (!equal(root1, root2)) throw new ProofError("equal sizes with different roots");
    return;
  }
  checkHash("root1", root1);
  checkHash("root2", root2);
  proof.forEach((p, i) => checkHash(`proof hash ${i}`, p));
  if (proof.length === 0) throw new ProofError("the proof is empty");
  // A power-of-two size1 is a perfect subtree of the larger tree: its root is the proof's implicit first hash.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) [fn, sn] = [half(fn), half(sn)];
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) throw new ProofError("the proof is longer than it should be");
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) while (!isOdd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else sr = nodeHash(sr, c);
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) throw new ProofError("the proof is shorter than it should be");
  if (!equal(fr, root1)) throw new ProofError("the proof does not lead to root1");
  if (!equal(sr, root2)) throw new ProofError("the proof does not lead to root2");
}
