// The tree audit on PostgreSQL: the tree recomputed from the events' hashes and held against every
// stored node, the compact range in the tip row and the root the latest checkpoint signed.
import type pg from "pg";
import { leafHash } from "../../../log/merkle/hash.js";
import { type CompletedNode, TreeBuilder } from "../../../log/merkle/tree-builder.js";
import { postOrderIndex } from "../../../log/merkle/node-id.js";
import type { StoredCheckpoint, TreeAudit } from "../../../log/transparency-store.js";
import { auditReport } from "../../../log/tree-audit.js";
import { type TipTree, stored } from "./extend-tree.js";

/** Events read per query by the audit. */
const AUDIT_PAGE = 5_000;

/** The audit, on a client inside one snapshot (it reads the whole log, a page per query). */
export async function auditTree(client: pg.ClientBase): Promise<TreeAudit> {
  const tip = (await client.query<TipTree & { position: number }>("SELECT position, tree_leaves, tree_border FROM chain_tip")).rows[0]!;
  const leaves = tip.tree_leaves;
  const c = (await client.query<{ tree_size: number; root: Buffer; note: string; published_at: number }>("SELECT tree_size, root, note, published_at FROM checkpoint_latest")).rows[0];
  const latest: StoredCheckpoint | null = c ? { treeSize: c.tree_size, root: c.root, note: c.note, publishedAt: c.published_at } : null;
  const builder = new TreeBuilder();
  let problem: string | null = null;
  let rootThen: Buffer | null = latest?.treeSize === 0 ? builder.root() : null;
  const checkBorder = () => {
    if (problem === null && builder.size === leaves && !Buffer.concat(builder.compactRange()).equals(tip.tree_border))
      problem = `the tree's compact range at ${leaves} leaves is not the one of the events under it`;
  };
  checkBorder();
  for (;;) {
    const { rows } = await client.query<{ position: number; hash: Buffer }>("SELECT position, hash FROM events WHERE position > $1 ORDER BY position LIMIT $2", [
      builder.size,
      AUDIT_PAGE,
    ]);
    const made: CompletedNode[] = [];
    for (const r of rows) {
      if (r.position !== builder.size + 1) return auditReport(leaves, builder.size, latest, rootThen, `the log has a gap before position ${r.position}`);
      for (const n of stored(builder.append(leafHash(r.hash)))) if (builder.size <= leaves) made.push(n);
      checkBorder();
      if (latest && builder.size === latest.treeSize) rootThen = builder.root();
    }
    if (problem === null && made.length > 0) {
      const found = await client.query<{ post_order: number; hash: Buffer }>("SELECT post_order, hash FROM merkle_nodes WHERE post_order = ANY($1::bigint[])", [
        made.map(postOrderIndex),
      ]);
      const byKey = new Map(found.rows.map((r) => [r.post_order, r.hash]));
      const wrong = made.find((n) => !byKey.get(postOrderIndex(n))?.equals(n.hash));
      if (wrong) problem = `the tree's node at level ${wrong.level}, index ${wrong.index} is not the hash of the events under it`;
    }
    if (rows.length < AUDIT_PAGE) break;
  }
  if (problem === null && leaves > builder.size) problem = `the tree claims ${leaves} leaves, the log holds ${builder.size} events`;
  return auditReport(leaves, builder.size, latest, rootThen, problem);
}
