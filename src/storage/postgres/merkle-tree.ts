// The transparency log's tree on PostgreSQL: extended by the sequencer (the transaction that holds the
// chain tip), so the tree's order is the chain's order on every replica; read O(log n) rows per proof.
import type pg from "pg";
import { leafHash } from "../../log/merkle/hash.js";
import { type CompletedNode, TreeBuilder } from "../../log/merkle/tree-builder.js";
import { type NodeId, postOrderIndex } from "../../log/merkle/node-id.js";
import type { LeafRef, StoredCheckpoint, TransparencyPort, TreeAudit } from "../../log/transparency-store.js";
import { auditReport } from "../../log/tree-audit.js";
import type { PostgresStore } from "./postgres-store.js";

/**
 * Perfect subtrees below this level are not stored: a node of level l < TREE_STORED_LEVEL is hashed
 * from its 2^l events when read (at most 2^TREE_STORED_LEVEL - 1 extra event hashes per proof, read in
 * the same query), which keeps the stored tree at one row per 2^(TREE_STORED_LEVEL-1) events.
 */
export const TREE_STORED_LEVEL = 4;

/** Leaves added per transaction while the tree catches up with the log: the tip is held for one chunk only. */
const CATCH_UP_CHUNK = 2_000;
/** Events read per query by the audit. */
const AUDIT_PAGE = 5_000;

const HASH = 32;
/**
 * A proof's one query: stored nodes by post-order, and the events under the lower ones. Named, so
 * each connection parses and plans it once.
 */
const READ_NODES: pg.QueryConfig = {
  name: "ledger_read_tree_nodes",
  text: `SELECT TRUE AS node, post_order AS key, hash FROM merkle_nodes WHERE post_order = ANY($1::bigint[])
         UNION ALL
         SELECT FALSE, position, hash FROM events WHERE position = ANY($2::bigint[])`,
};

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

const splitBorder = (border: Buffer): Buffer[] => {
  if (border.length % HASH !== 0) throw new Error(`the tree's compact range is ${border.length} bytes, not a multiple of ${HASH}`);
  return Array.from({ length: border.length / HASH }, (_, i) => border.subarray(i * HASH, (i + 1) * HASH));
};

const stored = (nodes: readonly CompletedNode[]) => nodes.filter((n) => n.level >= TREE_STORED_LEVEL);

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

/** The hash of a perfect subtree from its leaf hashes. */
function subtreeHash(leaves: readonly Buffer[]): Buffer {
  const b = new TreeBuilder();
  for (const l of leaves) b.append(l);
  return b.root();
}

/** The storage port's transparency part on PostgreSQL. */
export class PgTransparency implements TransparencyPort {
  constructor(private readonly store: PostgresStore) {}

  async treeSize(): Promise<number> {
    return (await this.store.read<{ tree_leaves: number }>("SELECT tree_leaves FROM chain_tip")).rows[0]!.tree_leaves;
  }

  /** Stored nodes by post-order, and the events under the lower ones, in one query (prepared once per connection). */
  async readNodes(ids: readonly NodeId[]): Promise<Buffer[]> {
    const wanted: number[] = [];
    const positions: number[] = [];
    for (const id of ids) {
      if (id.level >= TREE_STORED_LEVEL) wanted.push(postOrderIndex(id));
      else for (let i = id.index * 2 ** id.level; i < (id.index + 1) * 2 ** id.level; i++) positions.push(i + 1);
    }
    const { rows } = await this.store.read<{ node: boolean; key: number; hash: Buffer }>(READ_NODES, [wanted, positions]);
    const nodes = new Map<number, Buffer>();
    const events = new Map<number, Buffer>();
    for (const r of rows) (r.node ? nodes : events).set(r.key, r.hash);
    return ids.map((id) => {
      if (id.level >= TREE_STORED_LEVEL) {
        const h = nodes.get(postOrderIndex(id));
        if (!h) throw new Error(`the tree has no node at level ${id.level}, index ${id.index}`);
        return h;
      }
      const leaves: Buffer[] = [];
      for (let i = id.index * 2 ** id.level; i < (id.index + 1) * 2 ** id.level; i++) {
        const h = events.get(i + 1);
        if (!h) throw new Error(`the log has no event at position ${i + 1}`);
        leaves.push(leafHash(h));
      }
      return id.level === 0 ? leaves[0]! : subtreeHash(leaves);
    });
  }

  async findLeaf(eventId: string): Promise<LeafRef | null> {
    const { rows } = await this.store.read<{ position: number; subject_id: string | null }>("SELECT position, subject_id FROM events WHERE id = $1", [eventId]);
    const r = rows[0];
    return r ? { leafIndex: r.position - 1, subjectId: r.subject_id } : null;
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    const { rows } = await this.store.read<{ tree_size: number; root: Buffer; note: string; published_at: number }>(
      "SELECT tree_size, root, note, published_at FROM checkpoint_latest",
    );
    const r = rows[0];
    return r ? { treeSize: r.tree_size, root: r.root, note: r.note, publishedAt: r.published_at } : null;
  }

  /**
   * A compare-and-set: the row is replaced only by a larger tree size (the trigger refuses anything
   * else), so replicas racing to publish leave the largest; returns the latest stored after the attempt.
   */
  async saveCheckpoint(c: StoredCheckpoint): Promise<StoredCheckpoint> {
    const { rowCount } = await this.store.read(
      `INSERT INTO checkpoint_latest (tree_size, root, note, published_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (singleton) DO UPDATE SET tree_size = excluded.tree_size, root = excluded.root, note = excluded.note, published_at = excluded.published_at
       WHERE checkpoint_latest.tree_size < excluded.tree_size`,
      [c.treeSize, c.root, c.note, c.publishedAt],
    );
    if (rowCount === 1) return c;
    const latest = await this.latestCheckpoint();
    if (!latest) throw new Error("the latest checkpoint vanished");
    return latest;
  }

  async backlog(): Promise<number> {
    return (await this.store.read<{ n: number }>("SELECT position - tree_leaves AS n FROM chain_tip")).rows[0]!.n;
  }

  /**
   * Brings the tree up to the log one chunk per transaction. Each chunk holds the chain tip (so no
   * append extends the tree meanwhile) for one chunk's reads and hashing only; appends go on between.
   */
  async catchUp(chunk = CATCH_UP_CHUNK): Promise<void> {
    while ((await this.store.exclusive((client) => catchUpChunk(client, chunk))) > 0);
  }

  /**
   * Recomputes the tree from the events' hashes in one snapshot (offline tools: it reads the whole log,
   * a page per query) and compares every stored node, the compact range in the tip row, and the root
   * the latest checkpoint signed.
   */
  async audit(): Promise<TreeAudit> {
    return this.store.snapshot(async (client) => {
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
    });
  }

  /** Empties the tree (inside a transaction holding the tip); the next catch-up builds it again from the log. */
  static async reset(client: pg.ClientBase): Promise<void> {
    await client.query("DELETE FROM merkle_nodes");
    await client.query("UPDATE chain_tip SET tree_leaves = 0, tree_border = ''::bytea");
  }
}

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
