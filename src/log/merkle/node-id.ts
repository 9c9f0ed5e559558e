// Addresses of the tree's perfect subtrees, and the arithmetic on tree sizes the proofs need.
//
// A node (level, index) is the root of the perfect subtree over leaves [index·2^level, (index+1)·2^level).
// Sizes and indexes stay below 2^53, so plain numbers are exact; no bitwise operators (they cut at 32 bits).

export interface NodeId {
  level: number;
  index: number;
}

/** A range of leaves [begin, end). */
export interface LeafRange {
  begin: number;
  end: number;
}

/** The largest power of two strictly below n (n >= 2): RFC 9162's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The largest power of two at most n (n >= 1). */
export function largestPowerOfTwoAtMost(n: number): number {
  let k = 1;
  while (k * 2 <= n) k *= 2;
  return k;
}

export const isPowerOfTwo = (n: number): boolean => n >= 1 && largestPowerOfTwoAtMost(n) === n;

const log2 = (powerOfTwo: number): number => Math.round(Math.log2(powerOfTwo));

/** The number of one bits of a non-negative integer. */
export function popCount(n: number): number {
  let c = 0;
  for (let v = n; v > 0; v = Math.floor(v / 2)) c += v % 2;
  return c;
}

/** The number of trailing zero bits of a positive integer. */
export function trailingZeros(n: number): number {
  let c = 0;
  for (let v = n; v % 2 === 0 && v > 0; v /= 2) c++;
  return c;
}

/**
 * The node's place in post-order (children before parents, left before right): the order in which an
 * append-only tree completes its nodes. Stored nodes keyed by it are written in ascending key order.
 */
export function postOrderIndex(id: NodeId): number {
  const leavesBefore = (id.index + 1) * 2 ** id.level;
  // Nodes of a tree of m leaves: 2m - popcount(m); the ones above this node completed by the same leaf come after it.
  return 2 * leavesBefore - popCount(leavesBefore) - trailingZeros(id.index + 1) - 1;
}

/**
 * The perfect subtrees that make up a range as RFC 9162 splits it, left to right, each at most half
 * the size of the one before. `begin` must be a multiple of the largest power of two not above the
 * range's size, which every range of an RFC 9162 path or proof is.
 */
export function rangeNodes(r: LeafRange): NodeId[] {
  const out: NodeId[] = [];
  let at = r.begin;
  while (at < r.end) {
    const size = largestPowerOfTwoAtMost(r.end - at);
    if (at % size !== 0) throw new RangeError(`range [${r.begin}, ${r.end}) is not aligned as RFC 9162 splits trees`);
    out.push({ level: log2(size), index: at / size });
    at += size;
  }
  return out;
}
