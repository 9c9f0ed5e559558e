// The hash of a leaf range from the hashes of the perfect subtrees that make it up.
import { nodeHash } from "./hash.js";
import { type LeafRange, type NodeId, rangeNodes } from "./node-id.js";

/**
 * MTH of a range given its perfect subtrees left to right, as rangeNodes lists them: RFC 9162 splits a
 * range at its largest power of two, so the range's hash folds the subtrees from the right.
 */
export function foldRange(subtrees: readonly Uint8Array[]): Buffer {
  if (subtrees.length === 0) throw new RangeError("an empty range has no subtrees to fold");
  let h: Buffer = Buffer.from(subtrees.at(-1)!);
  for (let i = subtrees.length - 2; i >= 0; i--) h = nodeHash(subtrees[i]!, h);
  return h;
}

/** The hashes of a proof plan's ranges, reading each perfect subtree with `read` (a leaf is level 0). */
export function planHashes(plan: readonly LeafRange[], read: (node: NodeId) => Uint8Array): Buffer[] {
  return plan.map((r) => foldRange(rangeNodes(r).map(read)));
}
