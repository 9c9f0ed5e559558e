// What the transparency log needs from storage: the tree's nodes, its events' places, the latest checkpoint.
import type { NodeId } from "./merkle/node-id.js";

/** A checkpoint as the log keeps it: the latest one published, which later ones may only extend. */
export interface StoredCheckpoint {
  treeSize: number;
  root: Buffer;
  /** The whole signed note. */
  note: string;
  publishedAt: number;
}

/** An event's place in the tree. */
export interface LeafRef {
  leafIndex: number;
  subjectId: string | null;
}

/** The storage port's transparency part; an adapter keeps the tree inside its append's transaction. */
export interface TransparencyStore {
  /** Leaves in the tree: every committed event up to this position is in it. */
  treeSize(): Promise<number>;
  /** The hashes of perfect subtrees wholly inside the tree (level 0: a leaf hash). */
  readNodes(ids: readonly NodeId[]): Promise<Buffer[]>;
  /** The leaf of an event, by event id; null when there is no such event. */
  findLeaf(eventId: string): Promise<LeafRef | null>;
  latestCheckpoint(): Promise<StoredCheckpoint | null>;
  /**
   * Replaces the latest checkpoint with `c` if `c` is larger, atomically (a compare-and-set: processes
   * on one database may race); returns the latest stored afterwards, `c` itself when it was stored.
   */
  saveCheckpoint(c: StoredCheckpoint): Promise<StoredCheckpoint>;
}

/** The stored tree compared with a tree computed from the log alone; `problem` names the first difference. */
export interface TreeAudit {
  ok: boolean;
  leaves: number;
  eventCount: number;
  /** The latest checkpoint's size and whether the log's tree of that size has its root. */
  checkpoint: { treeSize: number; root: string; note: string; rootHolds: boolean } | null;
  problem: string | null;
}

/** The transparency part of the storage port: the store the log reads, and keeping the tree up with the log. */
export interface TransparencyPort extends TransparencyStore {
  /** Committed events not in the tree yet (a log that predates the tree, or a tree that was dropped). */
  backlog(): Promise<number>;
  /** Brings the tree up to the log in chunks while appends and reads go on; resolves once it covers the log. */
  catchUp(): Promise<void>;
  /** Recomputes the tree from the log and compares it with the stored one and the latest checkpoint (offline tools). */
  audit(): Promise<TreeAudit>;
}
