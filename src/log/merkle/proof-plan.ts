// Which subtree hashes an RFC 9162 proof consists of (§2.1.3.1 PATH, §2.1.4.1 PROOF), as leaf ranges.
// A store turns each range into its perfect subtrees (rangeNodes) and reads those: O(log n) reads.
import { type LeafRange, splitPoint } from "./node-id.js";

/** The ranges whose hashes form the inclusion proof of leaf `index` in a tree of `size` leaves, leaf first. */
export function inclusionPlan(index: number, size: number): LeafRange[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size)
    throw new RangeError(`leaf ${index} is not in a tree of ${size} leaves`);
  const out: LeafRange[] = [];
  // PATH(m, D[begin:end]), unrolled from the root down; siblings are collected top first, then reversed.
  let begin = 0;
  let end = size;
  while (end - begin > 1) {
    const k = splitPoint(end - begin);
    if (index < begin + k) {
      out.push({ begin: begin + k, end });
      end = begin + k;
    } else {
      out.push({ begin, end: begin + k });
      begin += k;
    }
  }
  return out.reverse();
}

/** The ranges whose hashes form the consistency proof from a tree of `from` leaves to one of `to` (0 < from <= to). */
export function consistencyPlan(from: number, to: number): LeafRange[] {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || from > to)
    throw new RangeError(`no consistency proof from size ${from} to size ${to}`);
  const out: LeafRange[] = [];
  // SUBPROOF(m, D[begin:end], whole), unrolled; the hashes are collected top first, then reversed.
  let m = from;
  let begin = 0;
  let end = to;
  let whole = true;
  while (m !== end - begin) {
    const k = splitPoint(end - begin);
    if (m <= k) {
      out.push({ begin: begin + k, end });
      end = begin + k;
    } else {
      out.push({ begin, end: begin + k });
      begin += k;
      m -= k;
      whole = false;
    }
  }
  if (!whole) out.push({ begin, end });
  return out.reverse();
}
