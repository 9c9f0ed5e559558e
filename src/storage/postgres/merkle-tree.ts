// The transparency log's tree on PostgreSQL: extended by the sequencer (the transaction that holds the
// chain tip), so the tree's order is the chain's order on every replica; read O(log n) rows per proof.
import type pg from "pg";
import { leafHash } from "../../log/merkle/hash.js";
import { TreeBuilder } from "../../log/merkle/tree-builder.js";
import { type NodeId, postOrderIndex } from "../../log/merkle/node-id.js";
import type { LeafRef, StoredCheckpoint, TransparencyPort, TreeAudit } from "../../log/transparency-store.js";
import { auditTree } from "./merkle/audit.js";
import { catchUpChunk } from "./merkle/catch-up.js";
import { TREE_STORED_LEVEL } from "./merkle/extend-tree.js";

export { type TipTree, type TreeWrite, TREE_STORED_LEVEL, extendTree } from "./merkle/extend-tree.js";
export { catchUpChunk } from "./merkle/catch-up.js";

/** What the tree needs of the PostgreSQL store: reads through the pool, and two kinds of transaction. */
export interface TreeStore {
  /** A read through the pool; an unreachable server is STORE_UNAVAILABLE. */
  read<R extends pg.QueryResultRow>(sql: string | pg.QueryConfig, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** `fn` in one transaction holding the chain tip. */
  exclusive<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** `fn` in one REPEATABLE READ snapshot, rolled back afterwards. */
  snapshot<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
}

/** Leaves added per transaction while the tree catches up with the log: the tip is held for one chunk only. */
const CATCH_UP_CHUNK = 2_000;

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

/** The hash of a perfect subtree from its leaf hashes. */
function subtreeHash(leaves: readonly Buffer[]): Buffer {
  const b = new TreeBuilder();
  for (const l of leaves) b.append(l);
  return b.root();
}

/** The storage port's transparency part on PostgreSQL. */
export class PgTransparency implements TransparencyPort {
  constructor(private readonly store: TreeStore) {}

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
    return this.store.snapshot(auditTree);
  }

  /** Empties the tree (inside a transaction holding the tip); the next catch-up builds it again from the log. */
  static async reset(client: pg.ClientBase): Promise<void> {
    await client.query("DELETE FROM merkle_nodes");
    await client.query("UPDATE chain_tip SET tree_leaves = 0, tree_border = ''::bytea");
  }
}
