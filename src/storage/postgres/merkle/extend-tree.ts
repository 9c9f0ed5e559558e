// The transparency tree's growth under the chain tip on PostgreSQL: pure, from the tip row's compact
// range and the new events' hashes to the nodes to store and the tip's new tree state.
import { leafHash } from "../../../log/merkle/hash.js";
import { type CompletedNode, TreeBuilder } from "../../../log/merkle/tree-builder.js";
import { postOrderIndex } from "../../../log/merkle/node-id.js";

/**
 * Perfect subtrees below this level are not stored: a node of level l < TREE_STORED_LEVEL is hashed
 * from its 2^l events when read (at most 2^TREE_STORED_LEVEL - 1 extra event hashes per proof, read in
 * the same query), which keeps the stored tree at one row per 2^(TREE_STORED_LEVEL-1) events.
 */
export const TREE_STORED_LEVEL = 4;

const HASH = 32;

/** The tree's state as the tip row keeps it. */
export interface TipTree {
  tree_leaves: number;
  tree_border: Buffer;
}

/** What an append writes for the tree under the tip lock: the new size and compact range, and the nodes it stored. */
export interface TreeWrite {
  leaves: number;
  border: Buffer;
  postOrders: number[];
  /** Lower-case hex, one per post-order. */
  hashes: string[];
}

export const splitBorder = (border: Buffer): Buffer[] => {
  if (border.length % HASH !== 0) throw new Error(`the tree's compact range is ${border.length} bytes, not a multiple of ${HASH}`);
  return Array.from({ length: border.length / HASH }, (_, i) => border.subarray(i * HASH, (i + 1) * HASH));
};

export const stored = (nodes: readonly CompletedNode[]) => nodes.filter((n) => n.level >= TREE_STORED_LEVEL);

/**
 * Extends the tree with events just linked after the tip (hashes in hex, in position order). A tree
 * still catching up with an older log (fewer leaves than the tip's position) is left as it is: the
 * catch-up reaches the appended events in its turn.
 */
export function extendTree(tipPosition: number, tree: TipTree, eventHashes: readonly string[]): TreeWrite {
  if (tree.tree_leaves !== tipPosition) return { leaves: tree.tree_leaves, border: tree.tree_border, postOrders: [], hashes: [] };
  const b = TreeBuilder.resume(tree.tree_leaves, splitBorder(tree.tree_border));
  const postOrders: number[] = [];
  const hashes: string[] = [];
  for (const h of eventHashes)
    for (const n of stored(b.append(leafHash(Buffer.from(h, "hex"))))) {
      postOrders.push(postOrderIndex(n));
      hashes.push(n.hash.toString("hex"));
    }
  return { leaves: b.size, border: Buffer.concat(b.compactRange()), postOrders, hashes };
}
