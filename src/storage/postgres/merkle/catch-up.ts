// Bringing the stored tree up to the log, a chunk per transaction (the tree of a log written before
// it, or emptied for a rebuild).
import type pg from "pg";
import { leafHash } from "../../../log/merkle/hash.js";
import { TreeBuilder } from "../../../log/merkle/tree-builder.js";
import { postOrderIndex } from "../../../log/merkle/node-id.js";
import { type TipTree, splitBorder, stored } from "./extend-tree.js";

/** Adds up to `max` logged events not in the tree yet (inside a transaction holding the chain tip); returns how many. */
export async function catchUpChunk(client: pg.ClientBase, max: number): Promise<number> {
  const tip = (await client.query<TipTree & { position: number }>("SELECT position, tree_leaves, tree_border FROM chain_tip")).rows[0]!;
  if (tip.tree_leaves >= tip.position) return 0;
  const { rows } = await client.query<{ position: number; hash: Buffer }>("SELECT position, hash FROM events WHERE position > $1 ORDER BY position LIMIT $2", [
    tip.tree_leaves,
    max,
  ]);
  if (rows.length === 0) return 0;
  const b = TreeBuilder.resume(tip.tree_leaves, splitBorder(tip.tree_border));
  const postOrders: number[] = [];
  const hashes: Buffer[] = [];
  for (const r of rows) {
    if (r.position !== b.size + 1) throw new Error(`the log has a gap before position ${r.position}`);
    for (const n of stored(b.append(leafHash(r.hash)))) {
      postOrders.push(postOrderIndex(n));
      hashes.push(n.hash);
    }
  }
  await client.query("INSERT INTO merkle_nodes (post_order, hash) SELECT * FROM unnest($1::bigint[], $2::bytea[])", [postOrders, hashes]);
  await client.query("UPDATE chain_tip SET tree_leaves = $1, tree_border = $2", [b.size, Buffer.concat(b.compactRange())]);
  return rows.length;
}
