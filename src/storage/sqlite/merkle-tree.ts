// The transparency log's tree in SQLite: kept in the append's transaction, read O(log n) rows per proof.
import type Database from "better-sqlite3";
import { leafHash, nodeHash } from "../../log/merkle/hash.js";
import { type NodeId, postOrderIndex, rangeNodes } from "../../log/merkle/node-id.js";
import { TreeBuilder } from "../../log/merkle/tree-builder.js";
import { auditReport } from "../../log/tree-audit.js";
import type { LeafRef, StoredCheckpoint, TransparencyStore, TreeAudit } from "../../log/transparency-store.js";

/** What the tree needs of an appended event. */
export interface LoggedEvent {
  position: number;
  /** Lower-case hex, as the chain keeps it. */
  hash: string;
  prevHash: string;
}

/**
 * Leaf i is the event at position i + 1, its data the 32 bytes of the event's hash; leaf hashes are
 * computed from the events table when read, and only the perfect subtrees above them are stored
 * (one 32-byte row per event on average). `merkle_tree.leaves` says how far the tree reaches: an
 * append extends it only when it already covers every earlier event, so a log that predates the tree
 * is caught up by `catchUp` in chunks while new events keep coming.
 */
export class SqliteMerkleTree implements TransparencyStore {
  private readonly stmts;

  constructor(private readonly db: Database.Database) {
    this.stmts = {
      leaves: db.prepare("SELECT leaves FROM merkle_tree WHERE id = 1").pluck(),
      setLeaves: db.prepare("UPDATE merkle_tree SET leaves = ? WHERE id = 1"),
      node: db.prepare("SELECT hash FROM merkle_nodes WHERE post_order = ?").pluck(),
      putNode: db.prepare("INSERT INTO merkle_nodes (post_order, hash) VALUES (?, ?)"),
      eventHash: db.prepare("SELECT hash FROM events WHERE position = ?").pluck(),
      eventHashes: db.prepare("SELECT position, hash FROM events WHERE position > ? ORDER BY position LIMIT ?"),
      findLeaf: db.prepare("SELECT position, subject_id FROM events WHERE id = ?"),
      latest: db.prepare("SELECT tree_size, root, note, published_at FROM checkpoint_latest WHERE id = 1"),
      saveLatest: db.prepare(
        `INSERT INTO checkpoint_latest (id, tree_size, root, note, published_at) VALUES (1, @treeSize, @root, @note, @publishedAt)
         ON CONFLICT (id) DO UPDATE SET tree_size = excluded.tree_size, root = excluded.root, note = excluded.note, published_at = excluded.published_at`,
      ),
    };
  }

  /** Leaves in the tree (synchronous, for the write path and offline tools). */
  size(): number {
    return this.stmts.leaves.get() as number;
  }

  /**
   * Adds one append's events, in log order, inside its transaction: the tree's size is read and
   * written once for all of them. Does nothing while the tree is still catching up.
   */
  appendEvents(events: readonly LoggedEvent[]): void {
    const from = this.size();
    let leaves = from;
    /** The leaf hash of the event before, when this call computed it. */
    let previousLeaf: Buffer | null = null;
    for (const e of events) {
      if (leaves !== e.position - 1) break;
      const leaf = leafHash(Buffer.from(e.hash, "hex"));
      let hash = leaf;
      let level = 0;
      let index = leaves;
      // A right child completes its parent: the left sibling is the previous event's leaf, or a stored node.
      while (index % 2 === 1) {
        const left = level === 0 ? (previousLeaf ?? leafHash(Buffer.from(e.prevHash, "hex"))) : this.storedNode({ level, index: index - 1 });
        hash = nodeHash(left, hash);
        level++;
        index = (index - 1) / 2;
        this.stmts.putNode.run(postOrderIndex({ level, index }), hash);
      }
      previousLeaf = leaf;
      leaves++;
    }
    if (leaves !== from) this.stmts.setLeaves.run(leaves);
  }

  /** Adds up to `max` logged events not in the tree yet, in one go (run it inside a write transaction); returns how many. */
  catchUp(max: number): number {
    const from = this.size();
    const rows = this.stmts.eventHashes.all(from, max) as { position: number; hash: Buffer }[];
    if (rows.length === 0) return 0;
    const builder = TreeBuilder.resume(from, from === 0 ? [] : rangeNodes({ begin: 0, end: from }).map((n) => this.node(n)));
    for (const r of rows) {
      if (r.position !== builder.size + 1) throw new Error(`the log has a gap before position ${r.position}`);
      for (const n of builder.append(leafHash(r.hash))) this.stmts.putNode.run(postOrderIndex(n), n.hash);
    }
    this.stmts.setLeaves.run(builder.size);
    return rows.length;
  }

  /** Empties the tree (a rebuild then catches it up from the log again). */
  reset(): void {
    this.db.exec("DELETE FROM merkle_nodes");
    this.stmts.setLeaves.run(0);
  }

  private storedNode(id: NodeId): Buffer {
    const h = this.stmts.node.get(postOrderIndex(id)) as Buffer | undefined;
    if (!h) throw new Error(`the tree has no node at level ${id.level}, index ${id.index}`);
    return h;
  }

  /** A perfect subtree's hash; level 0 is a leaf, hashed from its event. */
  node(id: NodeId): Buffer {
    if (id.level > 0) return this.storedNode(id);
    const h = this.stmts.eventHash.get(id.index + 1) as Buffer | undefined;
    if (!h) throw new Error(`the log has no event at position ${id.index + 1}`);
    return leafHash(h);
  }

  latestSync(): StoredCheckpoint | null {
    const r = this.stmts.latest.get() as { tree_size: number; root: Buffer; note: string; published_at: number } | undefined;
    return r ? { treeSize: r.tree_size, root: r.root, note: r.note, publishedAt: r.published_at } : null;
  }

  /**
   * Recomputes the tree from the events' hashes (offline tools: it reads the whole log) and compares every
   * stored node, how far the tree reaches, and the root the latest checkpoint signed.
   */
  audit(chunk = 10_000): TreeAudit {
    return this.db.transaction((): TreeAudit => {
      const leaves = this.size();
      const latest = this.latestSync();
      const builder = new TreeBuilder();
      let problem: string | null = null;
      let checkpointRoot: Buffer | null = latest?.treeSize === 0 ? builder.root() : null;
      for (;;) {
        const rows = this.stmts.eventHashes.all(builder.size, chunk) as { position: number; hash: Buffer }[];
        for (const r of rows) {
          if (r.position !== builder.size + 1) return auditReport(leaves, builder.size, latest, checkpointRoot, `the log has a gap before position ${r.position}`);
          for (const n of builder.append(leafHash(r.hash))) {
            if (problem !== null || builder.size > leaves) continue;
            const stored = this.stmts.node.get(postOrderIndex(n)) as Buffer | undefined;
            if (!stored || !stored.equals(n.hash)) problem = `the tree's node at level ${n.level}, index ${n.index} is not the hash of the events under it`;
          }
          if (latest && builder.size === latest.treeSize) checkpointRoot = builder.root();
        }
        if (rows.length < chunk) break;
      }
      if (problem === null && leaves > builder.size) problem = `the tree claims ${leaves} leaves, the log holds ${builder.size} events`;
      return auditReport(leaves, builder.size, latest, checkpointRoot, problem);
    })();
  }

  // ---- the port (TransparencyStore) ----

  async treeSize(): Promise<number> {
    return this.size();
  }

  async readNodes(ids: readonly NodeId[]): Promise<Buffer[]> {
    return ids.map((id) => this.node(id));
  }

  async findLeaf(eventId: string): Promise<LeafRef | null> {
    const r = this.stmts.findLeaf.get(eventId) as { position: number; subject_id: string | null } | undefined;
    return r ? { leafIndex: r.position - 1, subjectId: r.subject_id } : null;
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    return this.latestSync();
  }

  /** Stores `c` if it extends the latest (the trigger refuses any other change); returns the latest stored. */
  async saveCheckpoint(c: StoredCheckpoint): Promise<StoredCheckpoint> {
    return this.db
      .transaction((): StoredCheckpoint => {
        const latest = this.latestSync();
        if (latest && latest.treeSize >= c.treeSize) return latest;
        this.stmts.saveLatest.run(c);
        return c;
      })
      .immediate();
  }
}
