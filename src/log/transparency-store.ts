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
  /** Replaces the latest checkpoint with a larger one; refuses a size not above the latest. */
  saveCheckpoint(c: StoredCheckpoint): Promise<void>;
}
